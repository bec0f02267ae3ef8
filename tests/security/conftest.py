from __future__ import annotations

from tests.api.conftest import api  # noqa: F401 - the API tokens of each role, for these tests too
