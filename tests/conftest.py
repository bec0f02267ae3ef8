from __future__ import annotations

import pytest

from tests.factories import World, make_world


@pytest.fixture(autouse=True)
def _notification_log(settings, tmp_path):
    """Keep the log channel's file out of the data directory during tests."""
    settings.NOTIFY_LOG_FILE = tmp_path / "notifications.log"
    settings.NOTIFY_DEFAULT_CHANNEL = "log"


@pytest.fixture
def world(db) -> World:
    return make_world()
