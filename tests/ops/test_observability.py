"""Request ids, one JSON log line per request and per custody event, and /metrics access."""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from jianjian.communities.models import Membership, StaffRole
from jianjian.couriers.tokens import create_token
from jianjian.ops.logs import JsonFormatter
from jianjian.parcels import services
from tests.factories import tracking

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Capture what the request and custody loggers write, formatted as in production."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger("jianjian.request"), logging.getLogger("jianjian.custody")]
    for lg in loggers:
        lg.addHandler(handler)
    yield stream
    for lg in loggers:
        lg.removeHandler(handler)


def _parse(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_request_gets_an_id_and_one_json_line(client, json_lines):
    response = client.get("/healthz")
    rid = response["X-Request-ID"]
    assert len(rid) == 32
    (line,) = _parse(json_lines)
    assert line["request_id"] == rid
    assert line["route"] == "/healthz" and line["status"] == 200 and line["method"] == "GET"
    assert line["duration_ms"] >= 0


def test_a_callers_request_id_is_kept_and_a_bad_one_replaced(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-1234abcd")["X-Request-ID"] == "lb-1234abcd"
    assert client.get("/healthz", HTTP_X_REQUEST_ID="bad id\n")["X-Request-ID"] != "bad id\n"


@pytest.mark.django_db(transaction=True)
def test_custody_event_is_logged_with_the_request_id(world, json_lines):
    clerk = get_user_model().objects.create_user("clerk-log")
    Membership.objects.create(
        user=clerk, community=world.community, role=StaffRole.CLERK
    ).points.add(world.counter)
    _token, raw = create_token("counter-app", role="clerk", user=clerk)
    response = Client().post(
        "/api/v1/parcels/intake",
        {"point_id": world.counter.pk, "tracking_number": tracking(), "phone": "13800138000"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 200, response.content
    lines = _parse(json_lines)
    custody = [x for x in lines if x["logger"] == "jianjian.custody"]
    assert len(custody) == 1
    parcel_id = response.json()["parcel"]["id"]
    assert custody[0]["kind"] == "intake" and custody[0]["parcel_id"] == parcel_id
    assert custody[0]["request_id"] == response["X-Request-ID"]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_logs_no_custody_event(world, json_lines):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        services.intake(world.counter, tracking(), actor=world.clerk, phone="13800138000")
        raise RuntimeError("abort")
    assert [x for x in _parse(json_lines) if x["logger"] == "jianjian.custody"] == []


def test_the_old_drill_endpoints_are_gone(client, world):
    # Drills use the public API now; nothing outside it changes a parcel over HTTP.
    for op in ("intake", "pickup", "return"):
        response = client.post(f"/ops/drill/{op}", {}, content_type="application/json")
        assert response.status_code == 404


def test_metrics_are_for_admins_or_the_token_only(client, settings, world):
    settings.METRICS_TOKEN = "scrape-token-abc"
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    clerk = get_user_model().objects.create_user("clerk-m", password="x" * 12)
    client.force_login(clerk)
    assert client.get("/metrics").status_code == 403
    admin = get_user_model().objects.create_superuser("root-m", password="x" * 12)
    client.force_login(admin)
    assert client.get("/metrics").status_code == 200
    anonymous = Client()
    ok = anonymous.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-abc")
    assert ok.status_code == 200
    assert ok["Content-Type"].startswith("text/plain")


def test_metrics_show_requests_parcels_on_hand_and_outbox(client, settings, world):
    settings.METRICS_TOKEN = "scrape-token-abc"
    for _ in range(3):
        services.intake(world.counter, tracking(), actor=world.clerk, phone="13800138000")
    client.get("/healthz")
    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-abc").content.decode()
    assert 'jianjian_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'jianjian_http_request_duration_seconds_bucket{le="0.005",route="/healthz"}' in text
    slug = world.community.slug
    assert f'jianjian_parcels_on_hand{{community="{slug}",point="A"}} 3.0' in text
    assert f'jianjian_parcels_on_hand{{community="{slug}",point="B"}} 0.0' in text
    assert "jianjian_outbox_backlog 3.0" in text  # one arrival message per parcel, not yet sent
    assert "jianjian_worker_lag_seconds -1.0" in text  # no worker has run


def test_the_custody_file_is_appended_line_by_line_and_not_held_open(tmp_path):
    """Two processes' handlers share one file; a rotated (moved-away) file is started anew."""
    from jianjian.ops.logfile import AppendFileHandler

    path = tmp_path / "not-yet" / "custody.log"
    web, worker = AppendFileHandler(str(path)), AppendFileHandler(str(path))
    for handler in (web, worker):
        handler.setFormatter(JsonFormatter())
    record = logging.makeLogRecord({"name": "jianjian.custody", "msg": "取件 custody event"})
    web.emit(record)
    worker.emit(record)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["msg"] for line in lines] == ["取件 custody event"] * 2
    assert not [fd for fd in Path("/proc/self/fd").iterdir() if _points_at(fd, path)]
    path.rename(tmp_path / "custody.log.1")
    web.emit(record)
    assert len(path.read_text(encoding="utf-8").splitlines()) == 1


def _points_at(fd: Path, path: Path) -> bool:
    try:
        return Path(os.readlink(fd)) == path
    except OSError:
        return False
