from __future__ import annotations

import pytest

from tests.factories import World, make_world

_DB_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences"}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2's many rounds are the point in production and pure waste in tests, where every
    world makes users: hash with MD5 here (never in settings.py)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _points_learned_anew():
    """Each test's points are new to the process, as on PostgreSQL, whose ids are never reused:
    SQLite reuses a rolled-back test's ids, so a remembered point's community or slots could be
    another test's and a test's statement count would depend on the tests before it."""
    from jianjian import access
    from jianjian.parcels import placement

    access._POINT_COMMUNITY.clear()
    access._SCAN_POINTS.clear()
    placement._SLOT_ROWS.clear()


@pytest.fixture(autouse=True)
def _notification_log(settings, tmp_path):
    """Keep the log channel's file out of the data directory during tests."""
    settings.NOTIFY_LOG_FILE = tmp_path / "notifications.log"
    settings.NOTIFY_DEFAULT_CHANNEL = "log"


@pytest.fixture(autouse=True)
def _seed_carriers(request):
    """Transactional tests flush every table, the carriers seeded by the data migration too;
    put them back for each test that uses the database, as a fresh install has them."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not _DB_FIXTURES & set(request.fixturenames):
        return
    transactional = (marker is not None and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    from jianjian.couriers import carriers
    from jianjian.couriers.models import Carrier
    from jianjian.couriers.recognition import seed_carriers

    carriers.forget()  # the rows of an earlier test were rolled back or flushed
    seed_carriers(Carrier)


@pytest.fixture
def world(db) -> World:
    return make_world()
