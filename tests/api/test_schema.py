"""Schemathesis against the OpenAPI schema, in process: no 5xx, every answer matches the schema.

Each operation is called with generated requests (valid and malformed) as a clerk, a courier and
an admin. Bounded: a few examples per operation, so it runs in `make test`.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import Tokens

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def keep_connection():
    """Like Django's test client: the test's transaction must survive each in-process request
    (the WSGI handler would otherwise close the connection when the request finishes)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_answers_match_the_schema(case, api: Tokens, keep_connection):
    for caller in (api.clerk, api.sf, api.admin):
        case.call_and_validate(headers={"Authorization": f"Bearer {caller.token}"}, checks=CHECKS)
