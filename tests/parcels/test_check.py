"""`jianjian check` finds every kind of difference between the record and the custody trail."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from jianjian.parcels import services
from jianjian.parcels.fold import check
from jianjian.parcels.models import CustodyEvent, EventKind, Method, Parcel, ParcelState
from jianjian.points.models import CollectionPoint
from tests.factories import tracking


def _parcel(world):  # type: ignore[no-untyped-def]
    return services.intake(world.counter, tracking(), actor=world.clerk, phone="13812345678").parcel


def test_clean_record_passes(world, capsys):
    _parcel(world)
    call_command("custody_check")
    assert "OK: 1 parcels, 1 custody events, 0 differences" in capsys.readouterr().out


def test_state_changed_behind_the_services_back_is_found(world):
    parcel = _parcel(world)
    Parcel.objects.filter(pk=parcel.pk).update(state=ParcelState.PICKED_UP)
    problems = check(world.community.pk).problems
    assert any("state: stored 'picked_up', events say 'at_point'" in p for p in problems)
    with pytest.raises(CommandError, match="1 differences"):
        call_command("custody_check", community=world.community.slug)


def test_parcel_moved_without_an_event_is_found(world):
    parcel = _parcel(world)
    Parcel.objects.filter(pk=parcel.pk).update(point=world.counter2)
    problems = check(world.community.pk).problems
    assert any("point: stored" in p for p in problems)


def test_on_hand_count_drift_is_found(world):
    _parcel(world)
    CollectionPoint.objects.filter(pk=world.counter.pk).update(on_hand=5)
    problems = check(world.community.pk).problems
    assert problems == [f"point A {world.counter.name}: on hand stored 5, events say 1"]


def test_illegal_event_sequence_is_found(world):
    parcel = _parcel(world)
    # An event written around the services: a hand-over straight after a hand-over.
    services.hand_over(world.counter, [parcel], actor=world.clerk)
    parcel.refresh_from_db()
    CustodyEvent.objects.create(
        community=world.community,
        parcel=parcel,
        seq=3,
        kind=EventKind.HAND_OVER,
        to_state=ParcelState.PICKED_UP,
        at=parcel.closed_at,
        method=Method.ADMIN,
        point=world.counter,
    )
    problems = check(world.community.pk).problems
    assert any("hand_over is illegal from state picked_up" in p for p in problems)
    assert any("event count: stored 2, events say 3" in p for p in problems)


def test_parcel_without_events_is_found(world):
    Parcel.objects.create(
        community=world.community,
        tracking_number="SF0000000000001",
        carrier_id=world.sf_courier.carrier_id,
        state=ParcelState.AT_POINT,
        point=world.counter,
    )
    problems = check(world.community.pk).problems
    assert any("state: stored 'at_point', events say None" in p for p in problems)


def test_unknown_community_is_a_clear_error(db):
    with pytest.raises(CommandError, match="no community"):
        call_command("custody_check", community="nowhere")
