"""Each channel against a local peer that checks payloads and signatures as documented."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.utils import timezone

from jianjian.notify import outbox
from jianjian.notify.models import Notification, Status
from jianjian.notify.worker import drain
from jianjian.parcels import services
from tests.factories import tracking
from tests.notify.conftest import aliyun_config, prefer, robot, tencent_config


def _post(robot_row, text: str, key: str) -> None:
    outbox.to_robot(robot_row, "test", key, text)


@pytest.fixture
def daytime():
    # 10:00 in Shanghai: outside the default quiet hours.
    with time_machine.travel(dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC), tick=True) as t:
        yield t


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["wecom", "dingtalk", "feishu"])
def test_robot_posts_signed_text(world, peer, daytime, kind):
    bot = robot(world, peer, kind)
    _post(bot, "3-2-501 张*: 2 件", "k1")
    assert drain() == 1
    assert peer.texts(kind) == ["3-2-501 张*: 2 件"] and peer.rejected == []
    row = Notification.objects.get(robot=bot)
    assert row.status == Status.SENT and row.provider_answer


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["dingtalk", "feishu"])
def test_wrong_secret_fails_for_good_with_the_providers_answer(world, peer, daytime, kind):
    bot = robot(world, peer, kind, secret="SECwrong")
    _post(bot, "hello", "k1")
    drain()
    row = Notification.objects.get(robot=bot)
    assert row.status == Status.FAILED
    assert ("310000" if kind == "dingtalk" else "19021") in row.last_error
    assert peer.texts(kind) == []


@pytest.mark.django_db
def test_long_digest_is_split_to_fit_wecom(world, peer, daytime):
    bot = robot(world, peer, "wecom")
    lines = [f"3-2-{500 + i} 张*: {i} 件, 最久 3 天" for i in range(150)]
    _post(bot, "\n".join(lines), "digest")
    rows = Notification.objects.filter(robot=bot)
    assert rows.count() > 1
    assert all(len(r.body.encode()) <= 2048 for r in rows)
    drain()
    assert peer.rejected == []
    received = "\n".join(peer.texts("wecom"))
    assert all(line in received for line in lines), "every flat is in some part"


@pytest.mark.django_db
def test_worker_keeps_wecom_under_20_a_minute(world, peer):
    start = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        bot = robot(world, peer, "wecom")
        for i in range(25):
            _post(bot, f"message {i}", f"k{i}")
        drain()
        assert len(peer.texts("wecom")) == 20 and peer.rejected == []
        waiting = Notification.objects.filter(robot=bot, status=Status.PENDING)
        assert waiting.count() == 5
        assert all(n.attempts == 0 and n.next_attempt_at > start for n in waiting)
        traveller.shift(dt.timedelta(seconds=61))
        drain()
    assert len(peer.texts("wecom")) == 25 and peer.rejected == []


@pytest.mark.django_db
def test_provider_rate_limit_answer_retries_without_spending_an_attempt(world, peer, daytime):
    bot = robot(world, peer, "wecom")
    peer.script("/wecom", [(200, {"errcode": 45009, "errmsg": "api freq out of limit"})])
    _post(bot, "hello", "k1")
    drain()
    row = Notification.objects.get(robot=bot)
    assert row.status == Status.PENDING and row.attempts == 0
    assert row.next_attempt_at >= timezone.now() + dt.timedelta(seconds=55)
    assert "45009" in row.last_error


@pytest.mark.django_db
def test_server_errors_back_off_then_fail_visibly(world, peer, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    start = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        bot = robot(world, peer, "feishu")
        peer.script("/feishu", [(502, {"msg": "bad gateway"})] * 3)
        _post(bot, "hello", "k1")
        drain()
        row = Notification.objects.get(robot=bot)
        assert (row.status, row.attempts) == (Status.PENDING, 1)
        assert row.next_attempt_at == start + dt.timedelta(seconds=30)
        traveller.shift(dt.timedelta(seconds=31))
        drain()
        row.refresh_from_db()
        assert row.next_attempt_at == start + dt.timedelta(seconds=31 + 60)
        traveller.shift(dt.timedelta(seconds=61))
        drain()
        row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.FAILED, 3)
    assert "502" in row.last_error


@pytest.mark.django_db
@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_sms_providers_get_their_template_and_parameters(world, peer, settings, daytime, provider):
    settings.NOTIFY_SMS = aliyun_config(peer) if provider == "aliyun" else tencent_config(peer)
    resident = world.residents[0]
    prefer(resident, "sms")
    parcel = services.intake(
        world.counter, tracking(), actor=world.clerk, phone=resident.phone
    ).parcel
    drain()
    assert peer.rejected == []
    (received,) = [r for r in peer.received if r.provider == provider]
    params = json.loads(received.text)
    if provider == "aliyun":
        assert received.to == "13812345678"
        assert params["code"] == parcel.pickup_code and params["point"] == "我爱我家"
    else:
        assert received.to == "+8613812345678"
        tail = parcel.tracking_number[-4:]
        assert params == [tail, "我爱我家", parcel.pickup_code, "09:00–20:00", params[4]]
    row = Notification.objects.get(parcel=parcel, channel="sms")
    assert received.key == row.dedup_key and row.status == Status.SENT


@pytest.mark.django_db
def test_sms_without_a_template_fails_visibly(world, peer, settings, daytime):
    config = tencent_config(peer)
    settings.NOTIFY_SMS = type(config)(**{**config.__dict__, "templates": ()})
    prefer(world.residents[0], "sms")
    parcel = services.intake(
        world.counter, tracking(), actor=world.clerk, phone=world.residents[0].phone
    ).parcel
    drain()
    row = Notification.objects.get(parcel=parcel)
    assert row.status == Status.FAILED and "JIANJIAN_SMS_TEMPLATE_INTAKE" in row.last_error
    assert peer.received == []


@pytest.mark.django_db
def test_email_goes_through_smtp(world, smtp, daytime):
    resident = world.residents[0]
    prefer(resident, "email", email="zhang@example.org")
    parcel = services.intake(
        world.counter, tracking(), actor=world.clerk, phone=resident.phone
    ).parcel
    drain()
    (mail,) = smtp.mails
    assert mail.to == ["zhang@example.org"] and parcel.pickup_code in mail.body
    assert world.community.name in mail.subject


@pytest.mark.django_db
def test_a_repeated_cause_queues_nothing_twice(world, daytime):
    parcel = services.intake(
        world.counter, tracking(), actor=world.clerk, phone=world.residents[0].phone
    ).parcel
    again = services.intake(world.counter, parcel.tracking_number, actor=world.clerk)
    assert again.duplicate
    assert Notification.objects.filter(parcel=parcel).count() == 1
