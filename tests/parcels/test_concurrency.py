"""Two clerks scanning the same parcel at the same moment get one parcel and one event.

Runs on whichever database the suite runs on; CI runs it on SQLite and on PostgreSQL, where the
row locks and the unique constraint (not the Python check) are what make it hold.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from jianjian.parcels import services
from jianjian.parcels.errors import ParcelError
from jianjian.parcels.fold import check
from jianjian.parcels.models import CustodyEvent, Parcel
from tests.factories import make_world, tracking


def _race(calls, rounds: int = 1):  # type: ignore[no-untyped-def]
    """Run each call in its own thread, released together by a barrier; collect outcomes."""
    results: list[object] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(calls))

    def run(fn):  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            outcome: object = fn()
        except Exception as exc:  # recorded, and checked by each test
            outcome = exc
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(fn,)) for fn in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(not t.is_alive() for t in threads)
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, ParcelError)]
    assert unexpected == [], "a database error (deadlock, lock timeout) reached the caller"
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(5))
def test_two_concurrent_intakes_of_one_number_at_one_point_yield_one_parcel(attempt):
    world = make_world()
    number = tracking()

    def scan():  # type: ignore[no-untyped-def]
        return services.intake(world.counter, number, actor=world.clerk, phone="13812345678")

    results = _race([scan, scan])
    assert Parcel.objects.filter(tracking_number=number).count() == 1
    assert CustodyEvent.objects.filter(parcel__tracking_number=number).count() == 1
    created = [r for r in results if not isinstance(r, Exception) and r.created]  # type: ignore[attr-defined]
    duplicates = [r for r in results if not isinstance(r, Exception) and r.duplicate]  # type: ignore[attr-defined]
    assert (len(created), len(duplicates)) == (1, 1)
    world.counter.refresh_from_db()
    assert world.counter.on_hand == 1
    assert check(world.community.pk).ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_intakes_of_one_number_at_two_points_yield_one_parcel():
    world = make_world()
    number = tracking()
    results = _race(
        [
            lambda: services.intake(world.counter, number, actor=world.clerk, phone="13812345678"),
            lambda: services.intake(world.counter2, number, actor=world.clerk, phone="13812345678"),
        ]
    )
    assert Parcel.objects.filter(tracking_number=number).count() == 1
    assert CustodyEvent.objects.filter(parcel__tracking_number=number).count() == 1
    refused = [r for r in results if isinstance(r, ParcelError)]
    assert len(refused) == 1 and refused[0].code == "at_other_point"
    assert check(world.community.pk).ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_intakes_at_a_full_point_never_exceed_capacity():
    world = make_world(capacity=3)

    def scan_new():  # type: ignore[no-untyped-def]
        number = tracking()
        return lambda: services.intake(
            world.counter, number, actor=world.clerk, phone="13812345678"
        )

    calls = [scan_new() for _ in range(6)]
    results = _race(calls)
    taken = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, ParcelError)]
    assert len(taken) == 3
    assert {r.code for r in refused} == {"capacity_exceeded"}
    codes = list(Parcel.objects.values_list("pickup_code", flat=True))
    assert len(codes) == len(set(codes)) == 3
    assert check(world.community.pk).ok


@pytest.mark.django_db(transaction=True)
def test_double_click_on_hand_over_hands_over_once():
    world = make_world()
    parcel = services.intake(
        world.counter, tracking(), actor=world.clerk, phone="13812345678"
    ).parcel
    results = _race(
        [lambda: services.hand_over(world.counter, [parcel], actor=world.clerk) for _ in range(2)]
    )
    assert sum(1 for r in results if not isinstance(r, Exception)) == 1
    assert [r.code for r in results if isinstance(r, ParcelError)] == ["not_at_point"]
    assert CustodyEvent.objects.filter(parcel=parcel).count() == 2
    assert check(world.community.pk).ok


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_return_racing_a_rescan_neither_deadlocks_nor_writes_twice(attempt):
    """Intake locks point → parcel; so must return, or the two wait on each other forever."""
    world = make_world()
    number = tracking()
    parcel = services.intake(world.counter, number, actor=world.clerk, phone="13812345678").parcel
    _race(
        [
            lambda: services.return_to_courier(parcel, courier=world.sf_courier, actor=world.clerk),
            lambda: services.intake(world.counter, number, actor=world.clerk),
            lambda: services.mark_missing(parcel, actor=world.clerk),
        ]
    )
    parcel.refresh_from_db()
    assert parcel.state in {"returned", "missing", "at_point"}
    assert check(world.community.pk).ok


@pytest.mark.django_db(transaction=True)
def test_opposite_moves_between_two_points_do_not_deadlock():
    world = make_world()
    a = services.intake(world.counter, tracking(), actor=world.clerk, phone="13812345678").parcel
    b = services.intake(world.counter2, tracking(), actor=world.clerk, phone="13812345678").parcel
    _race(
        [
            lambda: services.move(a, to_point=world.counter2, actor=world.clerk),
            lambda: services.move(b, to_point=world.counter, actor=world.clerk),
        ]
    )
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.point_id, b.point_id) == (world.counter2.pk, world.counter.pk)
    assert check(world.community.pk).ok
