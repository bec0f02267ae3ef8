"""Intake rules: idempotent re-scans, capacity, recipient matching, slots and pickup codes."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import time_machine

from jianjian.communities.models import Resident
from jianjian.parcels import services
from jianjian.parcels.errors import (
    AmbiguousRecipient,
    CapacityExceeded,
    InvalidInput,
    NoRoom,
    ParcelError,
)
from jianjian.parcels.fold import check
from jianjian.parcels.matching import RecipientInfo
from jianjian.parcels.models import CustodyEvent, Parcel, ParcelState
from jianjian.points.models import PointDay, SlotSize
from tests.factories import make_world, tracking

S = ParcelState


def test_rescan_returns_the_same_parcel_and_writes_nothing(world):
    number = tracking()
    first = services.intake(world.counter, number, actor=world.clerk, phone="13812345678")
    # A scanner's second read, typed with spaces and in full-width digits by an input method.
    messy = " " + number[:2].lower() + "".join(chr(ord(c) + 0xFEE0) for c in number[2:]) + " "
    again = services.intake(world.counter, messy, actor=world.clerk)
    assert again.duplicate and not again.created
    assert again.parcel.pk == first.parcel.pk
    assert Parcel.objects.count() == 1
    assert CustodyEvent.objects.count() == 1
    assert PointDay.objects.get(point=world.counter).intakes == 1


def test_capacity_refuses_the_51st_parcel_until_a_reason_is_given(world):
    world.counter.daily_capacity = 50
    world.counter.save()
    for _ in range(50):
        services.intake(world.counter, tracking(), actor=world.clerk, phone="13812345678")
    with pytest.raises(CapacityExceeded) as err:
        services.intake(world.counter, tracking(), actor=world.clerk, phone="13812345678")
    assert err.value.details == {"capacity": 50, "intakes": 50}
    assert Parcel.objects.count() == 50
    # Whitespace is not a reason.
    with pytest.raises(CapacityExceeded):
        services.intake(
            world.counter, tracking(), actor=world.clerk, phone="13812345678", override_reason="   "
        )
    result = services.intake(
        world.counter,
        tracking(),
        actor=world.clerk,
        phone="13812345678",
        override_reason="courier came twice",
    )
    event = CustodyEvent.objects.get(parcel=result.parcel)
    assert event.data["override_reason"] == "courier came twice"
    day = PointDay.objects.get(point=world.counter)
    assert (day.intakes, day.overrides) == (51, 1)
    assert result.remaining_capacity == 0


def test_capacity_counts_per_local_day(world):
    world.counter.daily_capacity = 1
    world.counter.save()
    # 23:30 in Beijing is 15:30 UTC; the next parcel at 00:10 Beijing belongs to a new day.
    with time_machine.travel(dt.datetime(2026, 3, 1, 15, 30, tzinfo=dt.UTC), tick=False):
        services.intake(world.counter, tracking(), actor=world.clerk, phone="13812345678")
        with pytest.raises(CapacityExceeded):
            services.intake(world.counter, tracking(), actor=world.clerk, phone="13812345678")
    with time_machine.travel(dt.datetime(2026, 3, 1, 16, 10, tzinfo=dt.UTC), tick=False):
        result = services.intake(world.counter, tracking(), actor=world.clerk, phone="13812345678")
    assert result.parcel.state == S.AT_POINT


def test_capacity_is_per_point(world):
    world.counter.daily_capacity = 1
    world.counter.save()
    services.intake(world.counter, tracking(), actor=world.clerk, phone="13812345678")
    result = services.intake(world.counter2, tracking(), actor=world.clerk, phone="13812345678")
    assert result.parcel.point == world.counter2


def test_match_by_last4_and_flat(world):
    result = services.intake(
        world.counter, tracking(), actor=world.clerk, phone_last4="5678", flat="３－２－５０２"
    )
    assert result.parcel.recipient == world.residents[1]  # 李四 of 3-2-502, 139…5678


def test_last4_without_flat_is_refused_clearly(world):
    with pytest.raises(InvalidInput) as err:
        services.intake(world.counter, tracking(), actor=world.clerk, phone_last4="5678")
    assert err.value.code == "flat_needed"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"phone_last4": "56a8", "flat": "3-2-501"}, "last4_invalid"),
        ({"phone_last4": "567", "flat": "3-2-501"}, "last4_invalid"),
        ({"phone_last4": "5678", "flat": "3-2"}, "flat_invalid"),
        ({"phone_last4": "5678", "flat": "9-9-909"}, "flat_unknown"),
        ({"phone": "12345"}, "phone_invalid"),
        ({"phone": "call me"}, "phone_invalid"),
    ],
)
def test_bad_recipient_input_gets_a_clear_error_and_writes_nothing(world, kwargs, code):
    with pytest.raises(InvalidInput) as err:
        services.intake(world.counter, tracking(), actor=world.clerk, **kwargs)
    assert err.value.code == code
    assert err.value.message
    assert Parcel.objects.count() == 0 and CustodyEvent.objects.count() == 0


@pytest.mark.parametrize("raw", ["", "   ", "你好", "SF12", "<script>alert(1)</script>", "A" * 60])
def test_garbage_tracking_numbers_are_refused(world, raw):
    with pytest.raises(InvalidInput) as err:
        services.intake(world.counter, raw, actor=world.clerk, phone="13812345678")
    assert err.value.code in {"tracking_empty", "tracking_invalid"}
    assert Parcel.objects.count() == 0


def test_two_residents_of_one_flat_with_the_same_tail_are_ambiguous(world):
    Resident.objects.create(
        community=world.community, flat=world.flats[0], name="张小三", phone="13612345678"
    )
    with pytest.raises(AmbiguousRecipient) as err:
        services.intake(
            world.counter, tracking(), actor=world.clerk, phone_last4="5678", flat="3-2-501"
        )
    assert len(err.value.details["candidates"]) == 2


def test_unmatched_parcel_is_taken_in_and_matched_later(world):
    result = services.intake(
        world.counter,
        tracking(),
        actor=world.clerk,
        phone_last4="0000",
        flat="3-2-601",
        name="赵六",
    )
    parcel = result.parcel
    assert parcel.recipient is None
    assert (parcel.recipient_last4, parcel.recipient_flat.code, parcel.recipient_name) == (
        "0000",
        "3-2-601",
        "赵六",
    )
    services.assign_recipient(parcel, world.residents[2], actor=world.clerk)
    parcel.refresh_from_db()
    assert parcel.recipient == world.residents[2]
    assert parcel.state == S.AT_POINT
    assert check(world.community.pk).ok


def test_unmatched_full_phone_is_recorded(world):
    result = services.intake(world.counter, tracking(), actor=world.clerk, phone="13300001234")
    assert result.parcel.recipient is None
    assert result.parcel.recipient_phone == "+8613300001234"
    assert result.parcel.recipient_last4 == "1234"


def test_unknown_format_is_accepted_as_unknown_carrier(world):
    result = services.intake(
        world.counter, tracking("unknown"), actor=world.clerk, phone="13812345678"
    )
    assert result.parcel.carrier.code == "unknown"


def test_shelf_slots_fill_evenly(world):
    for _ in range(12):
        services.intake(world.counter, tracking(), actor=world.clerk, phone="13812345678")
    loads = [
        Parcel.objects.filter(slot=slot, state=S.AT_POINT).count()
        for slot in world.counter.slots.all()
    ]
    assert loads == [2] * 6


def test_locker_uses_the_smallest_free_compartment_that_fits_and_then_is_full(world):
    large = services.intake(
        world.locker, tracking(), actor=world.clerk, phone="13812345678", size=SlotSize.L
    ).parcel
    assert large.slot.size == "L"
    small = services.intake(
        world.locker, tracking(), actor=world.clerk, phone="13812345678", size=SlotSize.S
    ).parcel
    assert small.slot.size == "S"
    with pytest.raises(NoRoom):
        services.intake(
            world.locker, tracking(), actor=world.clerk, phone="13812345678", size=SlotSize.L
        )
    services.hand_over(world.locker, [large], actor=world.clerk)
    again = services.intake(
        world.locker, tracking(), actor=world.clerk, phone="13812345678", size=SlotSize.L
    ).parcel
    assert again.slot == large.slot or again.slot.size == "L"


def test_a_lockers_answer_reports_its_free_compartments_not_its_daily_capacity(world):
    # Three compartments and a capacity of 50: after one parcel the locker has room for two,
    # whatever is left of its daily capacity, and a clerk or counter app is told so.
    result = services.intake(
        world.locker, tracking(), actor=world.clerk, phone="13812345678", size=SlotSize.S
    )
    assert result.remaining_capacity == 2
    again = services.intake(
        world.locker, result.parcel.tracking_number, actor=world.clerk, phone="13812345678"
    )
    assert again.duplicate and again.remaining_capacity == 2
    counter = services.intake(world.counter, tracking(), actor=world.clerk, phone="13812345678")
    assert counter.remaining_capacity == 49


def test_locker_refused_for_a_resident_without_consent(world):
    with pytest.raises(InvalidInput) as err:
        services.intake(world.locker, tracking(), actor=world.clerk, phone="+8618600001111")
    assert err.value.code == "locker_consent"
    assert Parcel.objects.count() == 0


def test_pickup_codes_stay_unique_under_churn(db):
    """Hundreds of intakes and pickups in random order: no two parcels on hand share a code,
    and a code is reused only after its parcel left."""
    world = make_world(capacity=10_000)
    rng = random.Random(7)
    on_hand: list[Parcel] = []
    seen_live: dict[str, int] = {}
    for _step in range(600):
        if on_hand and rng.random() < 0.45:
            parcel = on_hand.pop(rng.randrange(len(on_hand)))
            services.hand_over(world.counter, [parcel], actor=world.clerk)
            del seen_live[parcel.pickup_code]
        else:
            parcel = services.intake(
                world.counter, tracking(), actor=world.clerk, phone="13812345678"
            ).parcel
            assert parcel.pickup_code not in seen_live, "code handed to a second parcel"
            seen_live[parcel.pickup_code] = parcel.pk
            on_hand.append(parcel)
    live = list(
        Parcel.objects.filter(point=world.counter, state=S.AT_POINT).values_list(
            "pickup_code", flat=True
        )
    )
    assert len(live) == len(set(live)) == len(on_hand)
    assert check(world.community.pk).ok


def test_a_code_still_held_when_the_sequence_comes_round_is_skipped(world):
    """A single scan takes the sequence's next code without asking whether it is held; when it
    is (the sequence came round while that parcel is still on the shelf), the database refuses
    it and the scan is taken in with the next free code, written once."""
    first = services.intake(world.counter, tracking(), actor=world.clerk, phone="13812345678")
    held = first.parcel.pickup_code
    # Round again: the next scan's sequence number is the first parcel's, on the same shelf.
    type(world.counter).objects.filter(pk=world.counter.pk).update(code_seq=0)
    world.counter.code_seq = 0
    number = tracking()
    result = services.intake(world.counter, number, actor=world.clerk, phone="13812345678")
    assert result.created and result.parcel.pickup_code != held
    live = list(
        Parcel.objects.filter(point=world.counter, state=S.AT_POINT).values_list(
            "pickup_code", flat=True
        )
    )
    assert sorted(live) == sorted([held, result.parcel.pickup_code])
    assert Parcel.objects.filter(tracking_number=number).count() == 1
    assert CustodyEvent.objects.filter(parcel=result.parcel).count() == 1
    assert PointDay.objects.get(point=world.counter).intakes == 2
    assert check(world.community.pk).ok


def test_a_batch_of_scans_gives_one_outcome_each_and_a_refused_scan_writes_nothing(world):
    """A station's scan stream: one transaction, one savepoint per scan."""
    world.counter.daily_capacity = 3
    world.counter.save()
    announced = tracking()
    services.announce(
        world.community,
        announced,
        actor=world.clerk,
        recipient=RecipientInfo(resident=world.residents[1]),
    )
    first = tracking()
    scans = [
        services.Scan(first, phone="13812345678"),
        services.Scan("not a number!"),
        services.Scan(announced),  # pre-advised: no typing
        services.Scan(first),  # the scanner read it twice
        services.Scan(tracking()),  # nobody said whose it is
        services.Scan(tracking(), phone_last4="5678", flat="3-2-501"),
        services.Scan(tracking(), phone="13812345678"),  # the 4th new parcel: over capacity
        services.Scan(tracking(), phone="13812345678", override_reason="two couriers at once"),
    ]
    outcomes = services.intake_many(world.counter, scans, actor=world.clerk)
    kinds = [
        o.code if isinstance(o, ParcelError) else ("duplicate" if o.duplicate else "in")
        for o in outcomes
    ]
    assert kinds == [
        "in",
        "tracking_invalid",
        "in",
        "duplicate",
        "recipient_needed",
        "in",
        "capacity_exceeded",
        "in",
    ]
    assert outcomes[2].parcel.recipient == world.residents[1]
    assert Parcel.objects.filter(state=S.AT_POINT, point=world.counter).count() == 4
    assert PointDay.objects.get(point=world.counter).intakes == 4
    assert check(world.community.pk).ok
