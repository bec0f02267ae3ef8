"""The whole reminder policy under time travel: intake → reminders → digest → dead → return."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from jianjian.notify.models import Notification, Status
from jianjian.notify.sweeps import sweep_parcels
from jianjian.notify.worker import drain, tick
from jianjian.parcels import policy, services
from jianjian.parcels.models import Parcel
from tests.factories import tracking
from tests.notify.conftest import prefer, robot

SH = ZoneInfo("Asia/Shanghai")
MONDAY_10 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SH)


def _intake(world, resident=None):
    resident = resident or world.residents[0]
    return services.intake(
        world.counter,
        tracking("sf"),
        actor=world.clerk,
        phone=resident.phone,
        courier=world.sf_courier,
    ).parcel


def causes(parcel) -> list[str]:
    return list(
        Notification.objects.filter(parcel=parcel).order_by("pk").values_list("cause", flat=True)
    )


@pytest.mark.django_db
def test_intake_reminders_digest_dead_and_return(world, peer):
    with time_machine.travel(MONDAY_10, tick=False) as traveller:
        committee = robot(world, peer, "wecom", purpose="committee")
        couriers = robot(world, peer, "dingtalk", purpose="couriers")
        parcel = _intake(world)
        tick()
        assert causes(parcel) == ["intake"]
        assert "A" in Notification.objects.get(parcel=parcel).body  # the pickup code's point

        traveller.move_to(MONDAY_10 + dt.timedelta(hours=23, minutes=59))
        tick()
        assert causes(parcel) == ["intake"], "no reminder before 24 h"

        traveller.move_to(MONDAY_10 + dt.timedelta(hours=24, minutes=1))
        tick()
        assert causes(parcel) == ["intake", "reminder"]
        reminder = Notification.objects.get(parcel=parcel, cause="reminder")
        assert parcel.pickup_code in reminder.body and reminder.status == Status.SENT

        # Day 2 at 19:00: the parcel has waited 33 h, under the 48 h escalation: no digest yet.
        traveller.move_to(dt.datetime(2026, 3, 3, 19, 0, 30, tzinfo=SH))
        tick()
        assert peer.texts("wecom") == []

        traveller.move_to(MONDAY_10 + dt.timedelta(hours=48, minutes=1))
        tick()
        assert causes(parcel) == ["intake", "reminder", "reminder"]

        # Day 3 at 19:00: the committee's digest lists the flat, masked, never the phone.
        traveller.move_to(dt.datetime(2026, 3, 4, 19, 0, 30, tzinfo=SH))
        tick()
        (digest,) = peer.texts("wecom")
        assert "3-2-501" in digest and "张*" in digest
        assert "13812345678" not in digest and "张三" not in digest
        tick()
        assert len(peer.texts("wecom")) == 1, "one digest a day"

        # Seven days later the resident still has the whole day: dead at the counter's closing
        # time (20:00) on Monday 9 March. Resident, courier and the couriers' group are told, once.
        traveller.move_to(MONDAY_10 + dt.timedelta(days=7, minutes=1))
        tick()
        assert "dead" not in causes(parcel)
        closing = dt.datetime(2026, 3, 9, 20, 0, 30, tzinfo=SH)
        traveller.move_to(closing)
        tick()
        tick()
        assert causes(parcel).count("dead") == 1
        courier_msg = Notification.objects.get(parcel=parcel, cause="dead_courier")
        assert courier_msg.address == world.sf_courier.phone
        assert parcel.tracking_number in courier_msg.body
        # (The couriers' group also gets each morning's room board.)
        dead_notes = [t for t in peer.texts("dingtalk") if parcel.tracking_number in t]
        assert len(dead_notes) == 1
        # The parcel is in the return queue (derived), still at the point, nothing more is due.
        assert Parcel.objects.filter(policy.dead_q(world.community, closing), pk=parcel.pk).exists()
        parcel.refresh_from_db()
        assert parcel.state == "at_point" and parcel.next_reminder_at is None

        services.return_to_courier(parcel, courier=world.sf_courier, actor=world.clerk)
        tick()
        assert causes(parcel)[-1] == "returned"
    assert committee.pk and couriers.pk
    assert not Notification.objects.exclude(status=Status.SENT).exists()


@pytest.mark.django_db
def test_picked_up_before_the_reminder_gets_no_reminder(world):
    with time_machine.travel(MONDAY_10, tick=False) as traveller:
        parcel = _intake(world)
        traveller.move_to(MONDAY_10 + dt.timedelta(hours=10))
        services.hand_over(world.counter, [parcel], actor=world.clerk)
        for hours in (25, 49, 24 * 8):
            traveller.move_to(MONDAY_10 + dt.timedelta(hours=hours))
            tick()
        assert causes(parcel) == ["intake", "collected"]


@pytest.mark.django_db
def test_quiet_hours_hold_sms_until_morning_but_not_email(world, settings, smtp):
    settings.NOTIFY_SMS = None  # the log provider: SMS lines in the log file
    resident = world.residents[0]
    prefer(resident, "sms", "email", email="zhang@example.org")
    late = dt.datetime(2026, 3, 2, 22, 30, tzinfo=SH)
    with time_machine.travel(late, tick=False) as traveller:
        parcel = _intake(world, resident)
        drain()
        sms = Notification.objects.get(parcel=parcel, channel="sms")
        assert sms.status == Status.PENDING
        assert sms.next_attempt_at == dt.datetime(2026, 3, 3, 8, 0, tzinfo=SH)
        assert Notification.objects.get(parcel=parcel, channel="email").status == Status.SENT
        assert len(smtp.mails) == 1

        traveller.move_to(dt.datetime(2026, 3, 3, 7, 59, tzinfo=SH))
        drain()
        sms.refresh_from_db()
        assert sms.status == Status.PENDING

        traveller.move_to(dt.datetime(2026, 3, 3, 8, 0, 1, tzinfo=SH))
        drain()
        sms.refresh_from_db()
        assert sms.status == Status.SENT
        assert parcel.pickup_code in settings.NOTIFY_LOG_FILE.read_text()


@pytest.mark.django_db
def test_a_late_worker_sends_only_the_latest_due_step(world):
    with time_machine.travel(MONDAY_10, tick=False) as traveller:
        parcel = _intake(world)
        traveller.move_to(MONDAY_10 + dt.timedelta(hours=50))  # worker was down for two days
        assert sweep_parcels(MONDAY_10 + dt.timedelta(hours=50)) == 1
        assert sweep_parcels(MONDAY_10 + dt.timedelta(hours=50)) == 0, "nothing due twice"
        reminders = Notification.objects.filter(parcel=parcel, cause="reminder")
        assert [n.dedup_key.split(":")[-2] for n in reminders] == ["48"]


@pytest.mark.django_db
def test_community_policy_changes_the_steps(world):
    world.community.reminder_hours = [6]
    world.community.hold_days = 2
    world.community.save()
    with time_machine.travel(MONDAY_10, tick=False) as traveller:
        parcel = _intake(world)
        for hours in (6.1, 30, 58.1):  # dead on Wednesday at the counter's closing (20:00)
            traveller.move_to(MONDAY_10 + dt.timedelta(hours=hours))
            tick()
        assert causes(parcel) == ["intake", "reminder", "dead", "dead_courier"]


@pytest.mark.django_db
def test_resident_language_and_channels(world, smtp):
    resident = world.residents[1]
    prefer(resident, "email", email="li@example.org", language="en")
    with time_machine.travel(MONDAY_10, tick=False):
        parcel = _intake(world, resident)
        drain()
    (mail,) = smtp.mails
    assert mail.to == ["li@example.org"]
    assert f"pickup code {parcel.pickup_code}" in mail.body
    assert "09:00–20:00" in mail.body  # the point's opening hours
    assert not Notification.objects.filter(parcel=parcel, channel="log").exists()


@pytest.mark.django_db
def test_a_sign_in_code_is_never_held_for_quiet_hours_even_on_retry(world, settings):
    """At 22:30 a resident asking for a code must get it now: a retry after a provider hiccup is
    sent at once, not at 08:00 when the code has long expired."""
    from jianjian.notify import outbox

    settings.NOTIFY_SMS = None
    late = dt.datetime(2026, 3, 2, 22, 30, tzinfo=SH)
    with time_machine.travel(late, tick=False):
        row = outbox.enqueue(
            parcel=None,
            community_id=world.community.pk,
            cause="signin_code",
            dedup_key="signin:test",
            address=world.residents[0].phone,
            channel="sms",
            body="code 123456",
            params={"code": "123456"},
        )
        assert row is not None and row.next_attempt_at == late
        # A first attempt failed: the row is due again a little later, still at night.
        Notification.objects.filter(pk=row.pk).update(attempts=1)
        drain()
        row.refresh_from_db()
        assert row.status == Status.SENT
