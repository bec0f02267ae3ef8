"""Pre-advice that ends by itself, in the worker's daily round: an announced parcel that never
arrives expires after the community's days, yesterday's overflow is re-planned into today's room,
and overflow nobody found room for too long is released — each a custody event the fold replays,
the resident and the courier told."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from jianjian.couriers import allocation
from jianjian.couriers.models import Overflow
from jianjian.notify.models import BoardPost, Notification
from jianjian.notify.sweeps import ROUND, run_sweeps
from jianjian.parcels import services
from jianjian.parcels.fold import check
from jianjian.parcels.matching import RecipientInfo
from jianjian.parcels.models import CustodyEvent, EventKind, Parcel, ParcelState
from tests.factories import World, tracking

pytestmark = pytest.mark.django_db

# 10:00 in Shanghai on a Monday; the round of a local day runs at its first sweep.
MONDAY = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
SHANGHAI_MIDNIGHT = dt.timedelta(hours=14)  # MONDAY + 14 h = Tuesday 00:00 local


def _announce(world: World, resident_index: int = 0) -> Parcel:
    resident = world.residents[resident_index]
    parcel, _created = services.announce(
        world.community,
        tracking(),
        actor=world.clerk,
        recipient=RecipientInfo(resident=resident),
        courier=world.sf_courier,
    )
    return parcel


def _events(parcel: Parcel, kind: str) -> list[CustodyEvent]:
    return list(CustodyEvent.objects.filter(parcel=parcel, kind=kind))


def _round_at(at: dt.datetime) -> int:
    with time_machine.travel(at, tick=False):
        return run_sweeps(at)


def test_announced_parcels_expire_after_the_policy_days_once(world):
    with time_machine.travel(MONDAY, tick=False):
        old = _announce(world)
    with time_machine.travel(MONDAY + dt.timedelta(days=3), tick=False):
        fresh = _announce(world, 1)
    # Day 7 after: not older than 7 days at that night's round; the next night it is.
    _round_at(MONDAY + SHANGHAI_MIDNIGHT + dt.timedelta(days=6))
    assert Parcel.objects.get(pk=old.pk).state == ParcelState.ANNOUNCED
    _round_at(MONDAY + SHANGHAI_MIDNIGHT + dt.timedelta(days=7))
    _round_at(MONDAY + SHANGHAI_MIDNIGHT + dt.timedelta(days=7, hours=3))  # same day: no round
    old.refresh_from_db()
    assert old.state == ParcelState.EXPIRED and old.closed_at is not None
    [event] = _events(old, EventKind.EXPIRE)
    assert event.data == {"reason": "age"} and event.actor_label == "worker"
    assert Parcel.objects.get(pk=fresh.pk).state == ParcelState.ANNOUNCED
    assert check(world.community.pk).ok
    rounds = BoardPost.objects.filter(community=world.community, kind=ROUND)
    assert rounds.count() == 2  # one per local day swept, however many sweeps that day


def test_an_expired_parcel_that_turns_up_is_taken_in_as_usual(world):
    with time_machine.travel(MONDAY, tick=False):
        parcel = _announce(world)
    _round_at(MONDAY + dt.timedelta(days=9))
    assert Parcel.objects.get(pk=parcel.pk).state == ParcelState.EXPIRED
    with time_machine.travel(MONDAY + dt.timedelta(days=9, hours=1), tick=False):
        result = services.intake(world.counter, parcel.tracking_number, actor=world.clerk)
    assert result.parcel.state == ParcelState.AT_POINT and result.parcel.closed_at is None
    assert check(world.community.pk).ok


def test_the_policy_days_are_the_communitys(world):
    world.community.announced_expire_days = 2
    world.community.save()
    with time_machine.travel(MONDAY, tick=False):
        parcel = _announce(world)
    _round_at(MONDAY + SHANGHAI_MIDNIGHT + dt.timedelta(days=2))
    assert Parcel.objects.get(pk=parcel.pk).state == ParcelState.EXPIRED


def _only_counter(world: World, capacity: int) -> None:
    for point in world.points:
        point.daily_capacity = capacity if point.pk == world.counter.pk else 0
        point.save()


def test_yesterdays_overflow_gets_todays_room_at_the_days_re_plan(world):
    _only_counter(world, 1)
    with time_machine.travel(MONDAY, tick=False):
        first, second = _announce(world), _announce(world, 1)
        allocation.reallocate(world.community)
        assert Overflow.objects.filter(parcel=second).exists()
        # The first is dropped and taken in today: the counter's room today is used up.
        services.intake(world.counter, first.tracking_number, actor=world.clerk)
        allocation.reallocate(world.community)
        assert Overflow.objects.filter(parcel=second).exists()
    _round_at(MONDAY + SHANGHAI_MIDNIGHT + dt.timedelta(minutes=1))
    second.refresh_from_db()
    assert second.planned_point_id == world.counter.pk
    assert not Overflow.objects.filter(parcel=second).exists()
    assert second.state == ParcelState.ANNOUNCED


def test_overflow_unplaced_too_long_is_released_and_the_courier_told(world):
    world.community.overflow_release_days = 1
    world.community.save()
    _only_counter(world, 0)
    with time_machine.travel(MONDAY, tick=False):
        parcel = _announce(world)
        allocation.reallocate(world.community)
    since = Overflow.objects.get(parcel=parcel).computed_at
    # Tuesday's round: unplaced for 14 hours, not more than a day — re-planned, still overflow.
    _round_at(MONDAY + SHANGHAI_MIDNIGHT)
    assert Parcel.objects.get(pk=parcel.pk).state == ParcelState.ANNOUNCED
    assert Overflow.objects.get(parcel=parcel).computed_at == since  # unplaced since then
    # Wednesday's: more than a day unplaced — released.
    wednesday = MONDAY + SHANGHAI_MIDNIGHT + dt.timedelta(days=1)
    _round_at(wednesday)
    parcel.refresh_from_db()
    assert parcel.state == ParcelState.EXPIRED
    assert _events(parcel, EventKind.EXPIRE)[0].data == {"reason": "overflow"}
    assert not Overflow.objects.filter(parcel=parcel).exists()
    assert check(world.community.pk).ok
    resident = Notification.objects.get(parcel=parcel, cause="released")
    assert resident.address == world.residents[0].phone
    courier = Notification.objects.get(cause="preadvice_ended_courier")
    assert courier.address == world.sf_courier.phone and parcel.tracking_number in courier.body
    # Another round the same day tells nobody again.
    before = Notification.objects.count()
    _round_at(wednesday + dt.timedelta(hours=2))
    assert Notification.objects.count() == before


def test_overflow_keeps_its_since_when_its_reasons_change(world):
    _only_counter(world, 0)
    with time_machine.travel(MONDAY, tick=False):
        parcel = _announce(world)
        allocation.reallocate(world.community)
    row = Overflow.objects.get(parcel=parcel)
    world.counter.active = False
    world.counter.save()
    allocation.reallocate(world.community, now=MONDAY + dt.timedelta(hours=1))
    again = Overflow.objects.get(parcel=parcel)
    assert again.reasons != row.reasons and again.computed_at == row.computed_at


def test_a_closure_that_starts_tomorrow_takes_effect_at_tomorrows_re_plan(world):
    from jianjian.points.models import PointClosure

    world.locker.daily_capacity = 0
    world.locker.save()
    with time_machine.travel(MONDAY, tick=False):
        parcel = _announce(world)
        PointClosure.objects.create(
            community=world.community,
            point=world.counter,
            starts_on=dt.date(2026, 3, 3),
            ends_on=dt.date(2026, 3, 3),
            reason="装修",
        )
        allocation.reallocate(world.community)
    assert Parcel.objects.get(pk=parcel.pk).planned_point_id == world.counter.pk  # open today
    _round_at(MONDAY + SHANGHAI_MIDNIGHT + dt.timedelta(minutes=1))  # Tuesday: closed
    assert Parcel.objects.get(pk=parcel.pk).planned_point_id == world.counter2.pk


def test_a_pre_advice_long_past_its_expiry_ends_without_a_message(world):
    """The first round after an upgrade (or weeks without a worker) ends old pre-advice quietly:
    a message about a parcel announced a month ago helps nobody."""
    with time_machine.travel(MONDAY, tick=False):
        old = _announce(world)
    with time_machine.travel(MONDAY + dt.timedelta(days=25), tick=False):
        recent = _announce(world, 1)
    _round_at(MONDAY + dt.timedelta(days=33))
    for parcel in (old, recent):
        assert Parcel.objects.get(pk=parcel.pk).state == ParcelState.EXPIRED
    assert not Notification.objects.filter(parcel=old).exists()
    assert Notification.objects.filter(parcel=recent, cause="expired").count() == 1
    assert check(world.community.pk).ok
