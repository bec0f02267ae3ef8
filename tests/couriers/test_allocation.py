"""Allocation: preferred point, nearest fallback, capacity exactly, lockers, overflow, recompute."""

from __future__ import annotations

import pytest

from jianjian.couriers import allocation as al
from jianjian.couriers.allocation import ParcelInfo, PointInfo, plan
from jianjian.couriers.models import Overflow, PointDistance
from jianjian.parcels import services
from jianjian.parcels.matching import RecipientInfo
from jianjian.parcels.models import Parcel
from tests.factories import tracking

A, B, L = 1, 2, 3
BUILDING = 10


def points(cap_a: int = 50, cap_b: int = 50, cap_l: int = 50, lockers=None) -> list[PointInfo]:
    return [
        PointInfo(A, cap_a),
        PointInfo(B, cap_b),
        PointInfo(L, cap_l, is_locker=True, compartments=lockers or {"S": 5, "M": 5, "L": 5}),
    ]


DIST = {BUILDING: {B: 1, A: 2, L: 3}}


def parcels(n: int, **kw) -> list[ParcelInfo]:
    return [ParcelInfo(id=i, building=BUILDING, **kw) for i in range(1, n + 1)]


def test_capacity_is_respected_exactly_at_50():
    result = plan(parcels(51, preferred_point=A), points(cap_b=0, cap_l=0), DIST)
    assert result.counts() == {A: 50}
    assert result.overflow == {51: ("no_capacity",)}


def test_the_preferred_point_comes_before_the_nearest():
    result = plan(parcels(3, preferred_point=A), points(), DIST)
    assert set(result.assigned.values()) == {A}


def test_without_a_preference_the_nearest_point_is_chosen_then_the_next():
    result = plan(parcels(52), points(cap_b=50), DIST)
    assert result.counts() == {B: 50, A: 2}


def test_a_full_preferred_point_falls_back_to_the_nearest_with_room():
    result = plan(parcels(2, preferred_point=A), points(cap_a=1), DIST)
    assert result.assigned == {1: A, 2: B}


def test_no_locker_without_consent():
    result = plan(parcels(1, locker_consent=False), points(cap_a=0, cap_b=0), DIST)
    assert result.assigned == {}
    assert result.overflow == {1: ("locker_consent", "no_capacity")}


def test_lockers_respect_compartment_sizes_and_count():
    pts = points(cap_a=0, cap_b=0, lockers={"S": 1, "M": 1})
    large = plan(parcels(1, size="L"), pts, DIST)
    assert large.overflow == {1: ("compartment_size", "no_capacity")}
    small = plan(parcels(3, size="S"), pts, DIST)
    assert small.assigned == {1: L, 2: L}  # one S, then the M compartment
    assert small.overflow == {3: ("no_capacity",)}


def test_closed_points_are_skipped():
    pts = [PointInfo(A, 50, open_today=False), PointInfo(B, 0)]
    assert plan(parcels(1), pts, DIST).overflow == {1: ("no_capacity", "point_closed")}


def test_no_points_at_all_is_overflow_not_a_drop():
    assert plan(parcels(2), []).overflow == {1: ("no_points",), 2: ("no_points",)}


def test_plan_is_deterministic_whatever_the_input_order():
    ps = parcels(120)
    first = plan(ps, points(), DIST)
    again = plan(list(reversed(ps)), points(), DIST)
    assert first.assigned == again.assigned and first.overflow == again.overflow


def test_points_without_a_distance_row_come_last_a_point_at_the_building_first():
    pts = [PointInfo(A, 1), PointInfo(B, 1), PointInfo(7, 1)]
    result = plan(parcels(3), pts, {BUILDING: {B: 5}}, {7: BUILDING})
    assert result.assigned == {1: 7, 2: B, 3: A}


# --- with the database -----------------------------------------------------------------------


def announce(world, n: int, resident=None) -> list[Parcel]:
    resident = resident or world.residents[0]
    return [
        services.announce(
            world.community,
            tracking(),
            actor=world.clerk,
            recipient=RecipientInfo(resident=resident),
        )[0]
        for _ in range(n)
    ]


@pytest.mark.django_db
def test_reallocate_stores_the_plan_and_overflow(world):
    world.locker.daily_capacity = 0
    world.locker.save()
    world.counter.daily_capacity = 2
    world.counter.save()
    world.counter2.daily_capacity = 1
    world.counter2.save()
    resident = world.residents[0]
    resident.preferred_point = world.counter
    resident.save()
    parcels = announce(world, 4)
    al.reallocate(world.community)
    planned = [Parcel.objects.get(pk=p.pk).planned_point_id for p in parcels]
    assert planned == [world.counter.pk, world.counter.pk, world.counter2.pk, None]
    assert Overflow.objects.get(parcel=parcels[3]).reasons == "no_capacity"


@pytest.mark.django_db
def test_todays_intakes_use_up_capacity(world):
    world.counter.daily_capacity = 1
    world.counter.save()
    services.intake(world.counter, tracking(), actor=world.clerk, phone="13812345678")
    info = {p.id: p for p in al.point_infos(world.community)}
    assert info[world.counter.pk].remaining == 0


@pytest.mark.django_db
def test_a_capacity_change_recomputes_the_plan(world, django_capture_on_commit_callbacks):
    PointDistance.objects.create(
        community=world.community, building=world.flats[0].building, point=world.counter, distance=1
    )
    PointDistance.objects.create(
        community=world.community,
        building=world.flats[0].building,
        point=world.counter2,
        distance=2,
    )
    parcels = announce(world, 2)
    al.reallocate(world.community)
    assert {Parcel.objects.get(pk=p.pk).planned_point_id for p in parcels} == {world.counter.pk}
    with django_capture_on_commit_callbacks(execute=True):
        world.counter.daily_capacity = 1
        world.counter.save()
    planned = [Parcel.objects.get(pk=p.pk).planned_point_id for p in parcels]
    assert planned == [world.counter.pk, world.counter2.pk]


@pytest.mark.django_db
def test_closing_a_point_recomputes_the_plan(world, django_capture_on_commit_callbacks):
    resident = world.residents[0]
    resident.preferred_point = world.counter
    resident.save()
    (parcel,) = announce(world, 1)
    al.reallocate(world.community)
    with django_capture_on_commit_callbacks(execute=True):
        world.counter.active = False
        world.counter.save()
    assert Parcel.objects.get(pk=parcel.pk).planned_point_id != world.counter.pk


@pytest.mark.django_db
def test_intake_saves_do_not_trigger_a_recompute(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        services.intake(world.counter, tracking(), actor=world.clerk, phone="13812345678")
    assert not any("reallocate" in repr(cb) for cb in callbacks)
