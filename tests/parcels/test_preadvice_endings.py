"""Pre-advice that ends without the parcel reaching a point: cancelled, or delivered elsewhere.
Each is a custody event the fold replays."""

from __future__ import annotations

import pytest
from django.utils.translation import gettext

from jianjian.parcels import services
from jianjian.parcels.errors import InvalidInput, InvalidTransition
from jianjian.parcels.fold import check
from jianjian.parcels.models import CustodyEvent, EventKind, Parcel, ParcelState
from tests.factories import World, tracking


def _announced(world: World) -> Parcel:
    parcel, _created = services.announce(world.community, tracking(), actor=world.clerk)
    return parcel


def test_a_cancelled_pre_advice_is_closed_and_can_still_be_taken_in(world):
    parcel = services.cancel_announced(_announced(world), actor=world.clerk, reason=" sent back ")
    assert parcel.state == ParcelState.CANCELLED and parcel.closed_at is not None
    event = CustodyEvent.objects.get(parcel=parcel, kind=EventKind.CANCEL)
    assert event.data == {"reason": "sent back"}
    assert check(world.community.pk).ok
    # It came after all: taken in as any parcel.
    result = services.intake(
        world.counter, parcel.tracking_number, actor=world.clerk, phone="13812345678"
    )
    assert result.parcel.state == ParcelState.AT_POINT and result.parcel.closed_at is None
    assert check(world.community.pk).ok


@pytest.mark.parametrize(("place", "holder"), [("door", ""), ("neighbour", "李四 502")])
def test_delivered_elsewhere_records_where_and_with_whom(world, place, holder):
    parcel = services.delivered_elsewhere(
        _announced(world), actor=world.clerk, place=place, holder=holder
    )
    who = holder or gettext("at the door")  # in the clerk's language, as a hand-over's holder
    assert parcel.state == ParcelState.ELSEWHERE and parcel.collected_by == who
    event = CustodyEvent.objects.get(parcel=parcel, kind=EventKind.ELSEWHERE)
    assert (event.holder, event.data) == (who, {"place": place})
    assert check(world.community.pk).ok


@pytest.mark.parametrize(
    ("place", "holder", "code"),
    [("neighbour", "  ", "holder_needed"), ("roof", "", "place_invalid")],
)
def test_delivered_elsewhere_needs_a_place_and_a_named_neighbour(world, place, holder, code):
    parcel = _announced(world)
    with pytest.raises(InvalidInput) as exc:
        services.delivered_elsewhere(parcel, actor=world.clerk, place=place, holder=holder)
    assert exc.value.code == code
    parcel.refresh_from_db()
    assert parcel.state == ParcelState.ANNOUNCED and parcel.event_count == 1


def test_only_a_parcel_still_announced_can_end_so(world):
    at_point = services.intake(
        world.counter, tracking(), actor=world.clerk, phone="13812345678"
    ).parcel
    with pytest.raises(InvalidTransition):
        services.cancel_announced(at_point, actor=world.clerk)
    with pytest.raises(InvalidTransition):
        services.delivered_elsewhere(at_point, actor=world.clerk, place="door")
    done = services.cancel_announced(_announced(world), actor=world.clerk)
    with pytest.raises(InvalidTransition):
        services.delivered_elsewhere(done, actor=world.clerk, place="door")
    assert check(world.community.pk).ok
