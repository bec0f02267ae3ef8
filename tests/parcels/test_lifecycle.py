"""Every legal and illegal transition of the lifecycle services, and what each leaves on record."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from jianjian.parcels import services
from jianjian.parcels.errors import InvalidInput, InvalidTransition, NotFound, RecipientNeeded
from jianjian.parcels.fold import check
from jianjian.parcels.matching import RecipientInfo
from jianjian.parcels.models import CustodyEvent, EventKind, Parcel, ParcelState
from tests.factories import World, tracking

# 10:30 in Shanghai: the world's counters are open (9:00–20:00), so intake adds no hours warning.
OPEN_HOURS = dt.datetime(2026, 3, 2, 2, 30, tzinfo=dt.UTC)

S = ParcelState


def _intake(world: World, number: str | None = None, **kw) -> Parcel:
    kw.setdefault("phone", world.residents[0].phone)
    return services.intake(world.counter, number or tracking(), actor=world.clerk, **kw).parcel


def _assert_clean(world: World) -> None:
    report = check(world.community.pk)
    assert report.problems == []


def _kinds(parcel: Parcel) -> list[str]:
    return list(CustodyEvent.objects.filter(parcel=parcel).values_list("kind", flat=True))


# --- one function per transition, from each state it may start from ------------------------


def test_intake_of_unknown_number_creates_parcel_at_point_with_slot_and_code(world):
    parcel = _intake(world)
    assert parcel.state == S.AT_POINT
    assert parcel.point == world.counter
    assert parcel.slot is not None and parcel.slot.point == world.counter
    assert parcel.pickup_code.startswith("A") and parcel.pickup_code.count("-") == 2
    assert parcel.recipient == world.residents[0]
    assert parcel.carrier.code == "sf"
    event = CustodyEvent.objects.get(parcel=parcel)
    assert (event.kind, event.seq, event.to_state, event.point_id, event.method) == (
        EventKind.INTAKE,
        1,
        S.AT_POINT,
        world.counter.pk,
        "scan",
    )
    assert event.actor == world.clerk.user
    world.counter.refresh_from_db()
    assert world.counter.on_hand == 1
    _assert_clean(world)


@time_machine.travel(OPEN_HOURS, tick=False)
def test_announced_parcel_is_taken_in_with_its_pre_advised_recipient(world):
    number = tracking()
    parcel, created = services.announce(
        world.community,
        number,
        actor=services.Actor.system("manifest"),
        recipient=RecipientInfo(resident=world.residents[1]),
        planned_point=world.counter,
    )
    assert created and parcel.state == S.ANNOUNCED and parcel.point is None
    # No phone typed: the pre-advice says whose it is.
    result = services.intake(world.counter, number, actor=world.clerk)
    assert result.parcel.state == S.AT_POINT
    assert result.parcel.recipient == world.residents[1]
    assert result.warnings == []
    assert _kinds(result.parcel) == [EventKind.ANNOUNCE, EventKind.INTAKE]
    _assert_clean(world)


def test_announcing_twice_changes_nothing(world):
    number = tracking()
    first, created = services.announce(world.community, number, actor=world.clerk)
    again, created_again = services.announce(world.community, number.lower(), actor=world.clerk)
    assert created and not created_again and first.pk == again.pk
    assert CustodyEvent.objects.filter(parcel=first).count() == 1


@time_machine.travel(OPEN_HOURS, tick=False)
def test_parcel_taken_in_at_the_wrong_point_is_accepted_with_a_warning(world):
    number = tracking()
    services.announce(
        world.community,
        number,
        actor=world.clerk,
        recipient=RecipientInfo(resident=world.residents[0]),
        planned_point=world.counter2,
    )
    result = services.intake(world.counter, number, actor=world.clerk)
    assert result.parcel.point == world.counter
    assert result.warnings == ["wrong_point"]
    event = CustodyEvent.objects.get(parcel=result.parcel, kind=EventKind.INTAKE)
    assert event.data["warnings"] == ["wrong_point"]


def test_hand_over_closes_parcel_and_releases_its_code(world):
    parcel = _intake(world)
    code = parcel.pickup_code
    services.hand_over(world.counter, [parcel], actor=world.clerk)
    parcel.refresh_from_db()
    assert parcel.state == S.PICKED_UP
    assert parcel.pickup_code == "" and parcel.slot is None
    assert parcel.collected_by == "张三"
    world.counter.refresh_from_db()
    assert world.counter.on_hand == 0
    # The code is free again for the next parcel at this point.
    assert not Parcel.objects.filter(
        point=world.counter, pickup_code=code, state=S.AT_POINT
    ).exists()
    _assert_clean(world)


def test_hand_over_is_all_or_nothing(world):
    a = _intake(world)
    b = _intake(world)
    services.hand_over(world.counter, [b], actor=world.clerk)
    with pytest.raises(InvalidTransition) as err:
        services.hand_over(world.counter, [a, b], actor=world.clerk)
    assert err.value.code == "not_at_point"
    a.refresh_from_db()
    assert a.state == S.AT_POINT
    _assert_clean(world)


def test_hand_over_at_another_point_is_refused(world):
    parcel = _intake(world)
    with pytest.raises(InvalidTransition):
        services.hand_over(world.counter2, [parcel], actor=world.clerk)


def test_return_to_courier_records_the_courier_as_holder(world):
    parcel = _intake(world)
    services.return_to_courier(parcel, courier=world.sf_courier, actor=world.clerk, reason="dead")
    parcel.refresh_from_db()
    assert parcel.state == S.RETURNED and parcel.returned_to == world.sf_courier
    event = CustodyEvent.objects.get(parcel=parcel, kind=EventKind.RETURN)
    assert event.courier == world.sf_courier and event.data == {"reason": "dead"}
    _assert_clean(world)


def test_return_to_a_courier_of_another_carrier_is_refused(world):
    parcel = _intake(world)
    with pytest.raises(InvalidInput) as err:
        services.return_to_courier(parcel, courier=world.zto_courier, actor=world.clerk)
    assert err.value.code == "wrong_carrier"
    parcel.refresh_from_db()
    assert parcel.state == S.AT_POINT


def test_returned_parcel_can_be_delivered_again(world):
    number = tracking()
    parcel = _intake(world, number)
    services.return_to_courier(parcel, courier=world.sf_courier, actor=world.clerk)
    again = services.intake(world.counter2, number, actor=world.clerk)
    assert again.parcel.pk == parcel.pk and again.parcel.state == S.AT_POINT
    assert again.parcel.point == world.counter2
    _assert_clean(world)


def test_move_to_another_point_moves_the_on_hand_count_and_changes_the_code(world):
    parcel = _intake(world)
    old_code = parcel.pickup_code
    services.move(parcel, to_point=world.counter2, actor=world.clerk)
    parcel.refresh_from_db()
    assert parcel.point == world.counter2 and parcel.pickup_code.startswith("B")
    assert parcel.pickup_code != old_code
    world.counter.refresh_from_db()
    world.counter2.refresh_from_db()
    assert (world.counter.on_hand, world.counter2.on_hand) == (0, 1)
    _assert_clean(world)


def test_move_within_a_point_to_a_chosen_slot(world):
    parcel = _intake(world)
    target = world.counter.slots.exclude(pk=parcel.slot_id).first()
    services.move(parcel, to_point=world.counter, to_slot=target, actor=world.clerk)
    parcel.refresh_from_db()
    assert parcel.slot == target
    assert parcel.pickup_code.startswith(f"A{target.shelf}-{target.tier}-")
    _assert_clean(world)


def test_missing_then_found_at_same_point_keeps_the_code(world):
    parcel = _intake(world)
    code = parcel.pickup_code
    services.mark_missing(parcel, actor=world.clerk, note="not on shelf")
    parcel.refresh_from_db()
    assert parcel.state == S.MISSING
    world.counter.refresh_from_db()
    assert world.counter.on_hand == 0
    services.mark_found(parcel, point=world.counter, actor=world.clerk)
    parcel.refresh_from_db()
    assert parcel.state == S.AT_POINT and parcel.pickup_code == code
    _assert_clean(world)


def test_missing_parcel_scanned_at_another_point_is_found_there(world):
    number = tracking()
    parcel = _intake(world, number)
    services.mark_missing(parcel, actor=world.clerk)
    result = services.intake(world.counter2, number, actor=world.clerk)
    assert result.found and result.parcel.point == world.counter2
    assert _kinds(parcel) == [EventKind.INTAKE, EventKind.MISSING, EventKind.FOUND]
    _assert_clean(world)


ILLEGAL = [
    # (how to reach the state, the service that must refuse)
    ("announced", "hand_over"),
    ("announced", "move"),
    ("announced", "return"),
    ("announced", "missing"),
    ("announced", "found"),
    ("picked_up", "hand_over"),
    ("picked_up", "move"),
    ("picked_up", "return"),
    ("picked_up", "missing"),
    ("picked_up", "found"),
    ("picked_up", "intake"),
    ("returned", "hand_over"),
    ("returned", "move"),
    ("returned", "return"),
    ("returned", "missing"),
    ("returned", "found"),
    ("missing", "hand_over"),
    ("missing", "move"),
    ("missing", "return"),
    ("missing", "missing"),
    ("at_point", "found"),
    ("at_point", "intake_elsewhere"),
]


def _reach(world: World, state: str) -> Parcel:
    if state == "announced":
        return services.announce(world.community, tracking(), actor=world.clerk)[0]
    parcel = _intake(world)
    if state == "picked_up":
        services.hand_over(world.counter, [parcel], actor=world.clerk)
    elif state == "returned":
        services.return_to_courier(parcel, courier=world.sf_courier, actor=world.clerk)
    elif state == "missing":
        services.mark_missing(parcel, actor=world.clerk)
    parcel.refresh_from_db()
    return parcel


def _attempt(world: World, parcel: Parcel, action: str) -> None:
    c = world.clerk
    match action:
        case "hand_over":
            services.hand_over(world.counter, [parcel], actor=c)
        case "move":
            services.move(parcel, to_point=world.counter2, actor=c)
        case "return":
            services.return_to_courier(parcel, courier=world.sf_courier, actor=c)
        case "missing":
            services.mark_missing(parcel, actor=c)
        case "found":
            services.mark_found(parcel, point=world.counter, actor=c)
        case "intake":
            services.intake(world.counter, parcel.tracking_number, actor=c)
        case "intake_elsewhere":
            services.intake(world.counter2, parcel.tracking_number, actor=c)


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_illegal_transition_is_refused_with_a_message_and_writes_nothing(world, state, action):
    parcel = _reach(world, state)
    events_before = CustodyEvent.objects.count()
    with pytest.raises(InvalidTransition) as err:
        _attempt(world, parcel, action)
    assert err.value.message  # fit to show a clerk
    assert parcel.tracking_number in err.value.message
    after = Parcel.objects.get(pk=parcel.pk)
    assert after.state == state
    assert CustodyEvent.objects.count() == events_before
    _assert_clean(world)


def test_error_messages_follow_the_active_language(world):
    from django.utils import translation

    parcel = _reach(world, "picked_up")
    with translation.override("zh-hans"), pytest.raises(InvalidTransition) as err:
        services.mark_missing(parcel, actor=world.clerk)
    assert "已取件" in err.value.message
    with translation.override("en"), pytest.raises(InvalidTransition) as err:
        services.mark_missing(parcel, actor=world.clerk)
    assert "picked up" in err.value.message


def test_points_of_another_community_are_not_found(world):
    from tests.factories import make_world

    other = make_world()
    parcel = _intake(world)
    with pytest.raises(NotFound):
        services.move(parcel, to_point=other.counter, actor=world.clerk)


def test_custody_events_are_append_only(world):
    parcel = _intake(world)
    event = CustodyEvent.objects.get(parcel=parcel)
    event.method = "typed"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        CustodyEvent.objects.filter(parcel=parcel).update(method="typed")
    with pytest.raises(PermissionError):
        CustodyEvent.objects.filter(parcel=parcel).delete()


def test_intake_without_any_recipient_information_asks_for_it(world):
    with pytest.raises(RecipientNeeded):
        services.intake(world.counter, tracking(), actor=world.clerk)
    assert Parcel.objects.count() == 0
