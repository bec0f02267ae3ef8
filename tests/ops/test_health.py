"""/healthz and /readyz: each cause of "not ready" turns /readyz to 503, and it recovers to 200."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.utils import timezone

from jianjian.notify.models import Notification, Status
from jianjian.ops import readiness
from jianjian.ops.heartbeat import beat
from jianjian.ops.models import Heartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _metrics_token(settings):
    settings.METRICS_TOKEN = "ready-secret"


def _ready(client: Client) -> tuple[int, dict]:
    """/readyz as the monitoring sees it: with the metrics token, which gets every check."""
    response = client.get("/readyz", HTTP_AUTHORIZATION="Bearer ready-secret")
    return response.status_code, response.json()


def _queue(world, *, due: dt.datetime, key: str = "k1") -> Notification:
    return Notification.objects.create(
        community=world.community,
        dedup_key=key,
        cause="intake",
        channel="log",
        address="+8613800000000",
        body="你的快递到了",
        next_attempt_at=due,
    )


def test_healthz_answers_without_the_database(client):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("gone")):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_when_everything_is_fine(client, world):
    beat("worker")
    status, body = _ready(client)
    assert status == 200, body
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "migrations", "worker", "outbox", "disk"}


def test_database_unreachable_is_not_ready_then_recovers(client, world):
    beat("worker")
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("server closed")):
        status, body = _ready(client)
    assert status == 503
    assert body["checks"]["database"]["ok"] is False
    assert "server closed" in body["checks"]["database"]["detail"]
    assert _ready(client)[0] == 200


def test_worker_never_ran_stale_and_fresh(client, world):
    status, body = _ready(client)
    assert status == 503
    assert "jianjian worker" in body["checks"]["worker"]["detail"]

    beat("worker")
    Heartbeat.objects.filter(name="worker").update(
        beat_at=timezone.now() - dt.timedelta(seconds=61)
    )
    status, body = _ready(client)
    assert status == 503
    assert "limit 60 s" in body["checks"]["worker"]["detail"]

    beat("worker")
    assert _ready(client)[0] == 200


def test_outbox_backlog_over_threshold(client, world, settings):
    beat("worker")
    settings.READY_OUTBOX_MAX_BACKLOG = 1
    _queue(world, due=timezone.now() + dt.timedelta(hours=1), key="a")
    assert _ready(client)[0] == 200
    _queue(world, due=timezone.now() + dt.timedelta(hours=1), key="b")
    status, body = _ready(client)
    assert status == 503
    assert "2 notifications waiting" in body["checks"]["outbox"]["detail"]
    Notification.objects.filter(dedup_key="b").update(status=Status.SENT)
    assert _ready(client)[0] == 200


def test_oldest_due_notification_too_old(client, world):
    beat("worker")
    row = _queue(world, due=timezone.now() - dt.timedelta(seconds=601))
    status, body = _ready(client)
    assert status == 503
    assert "oldest due notification waited" in body["checks"]["outbox"]["detail"]
    # Delivered (by the worker) → ready again.
    Notification.objects.filter(pk=row.pk).update(status=Status.SENT)
    assert _ready(client)[0] == 200


def test_low_disk_space(client, world, settings):
    beat("worker")
    free_mb = readiness.free_bytes() // (1024 * 1024)
    settings.READY_MIN_FREE_MB = free_mb + 1024  # demand more than the disk has
    status, body = _ready(client)
    assert status == 503
    assert "MB free in the data directory" in body["checks"]["disk"]["detail"]
    settings.READY_MIN_FREE_MB = 1
    assert _ready(client)[0] == 200


@pytest.mark.django_db(transaction=True)
def test_unapplied_migrations_then_migrated(client):
    from django.core.management import call_command

    beat("worker")
    call_command("migrate", "ops", "zero", verbosity=0)
    try:
        status, body = _ready(client)
        assert status == 503
        assert "ops.0001_initial" in body["checks"]["migrations"]["detail"]
        assert "jianjian migrate" in body["checks"]["migrations"]["detail"]
    finally:
        call_command("migrate", "ops", verbosity=0)
    beat("worker")
    assert _ready(client)[0] == 200
