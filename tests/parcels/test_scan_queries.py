"""The scan path's round trips, pinned: a new parcel for a known resident, as one scan and as a
batch. A change that adds a statement to every scan shows here first."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jianjian.couriers.carriers import carrier
from jianjian.parcels import services
from jianjian.parcels.fold import check
from jianjian.points.models import PointClosure, PointDay
from tests.factories import World, tracking

PHONES = ["13812345678", "13912345678", "13500000000"]
# On PostgreSQL the point's counts, a new parcel and its first custody event are written in one
# statement (hotsql.insert_pair); elsewhere in three.
WRITES = 1 if connection.vendor == "postgresql" else 3


def _one(world: World, phone: str = PHONES[0]) -> list[str]:
    scan = services.Scan(tracking(), phone=phone)
    with CaptureQueriesContext(connection) as queries:
        result = services.intake(world.counter, scan, actor=world.clerk)
    assert result.created
    return [q["sql"] for q in queries.captured_queries]


def _batch(world: World, size: int) -> list[str]:
    scans = [services.Scan(tracking(), phone=PHONES[i % 3]) for i in range(size)]
    with CaptureQueriesContext(connection) as queries:
        outcomes = services.intake_many(world.counter, scans, actor=world.clerk)
    assert all(isinstance(o, services.IntakeResult) and o.created for o in outcomes)
    return [q["sql"] for q in queries.captured_queries]


def test_one_scan_takes_seven_statements_or_nine(world):
    _one(world)  # today's row exists from now on, as on any busy day
    statements = _one(world)
    # A savepoint pair (the scan's own subtransaction); the point locked, with in the same
    # statement whether it has closures, whether the number is known (a new one needs no
    # second read) and its layout version (its slots come from the process's memory while it
    # stays the same, as the carrier does; the next code is the sequence's, which the unique
    # index on live codes vouches for); the resident matched, with their message preferences;
    # today's count upserted in one statement; the point's counts written, the parcel and its
    # event inserted (WRITES); the message queued.
    assert len(statements) == 6 + WRITES, "\n".join(s[:120] for s in statements)
    assert not [s for s in statements if '"points_slot"' in s]
    assert not [s for s in statements if "notify_residentpreference" in s.split(" FROM ")[0]]
    assert not [s for s in statements if s.startswith("SELECT pickup_code")]
    assert not [s for s in statements if s.startswith("SELECT") and "pointday" in s]
    assert not [s for s in statements if "pointclosure" in s.split(" FROM ")[-1]]
    assert PointDay.objects.get(point=world.counter).intakes == 2
    assert check(world.community.pk).ok


def test_the_first_scan_of_a_day_creates_its_row_in_the_same_statement(world):
    carrier("sf")  # a running process knows its carriers already (couriers/carriers.py)
    assert len(_one(world)) == 7 + WRITES  # and reads the point's slots the first time
    assert PointDay.objects.get(point=world.counter).intakes == 1


def test_a_point_closed_today_is_read_and_warns(world):
    """A point with closures reads them (one statement more) and they count: a scan on a day the
    point is closed is taken in with the out-of-hours warning."""
    today = timezone.localdate()
    PointClosure.objects.create(
        community=world.community,
        point=world.counter,
        starts_on=today,
        ends_on=today,
        reason="盘点",
    )
    _one(world)
    scan = services.Scan(tracking(), phone=PHONES[0])
    with CaptureQueriesContext(connection) as queries:
        result = services.intake(world.counter, scan, actor=world.clerk)
    assert result.created and "outside_hours" in result.warnings
    assert len(queries.captured_queries) == 7 + WRITES


def test_a_known_number_is_read_and_locked_after_the_point(world):
    """A re-scan finds the parcel the point's statement said exists: duplicate, nothing written."""
    first = services.intake(
        world.counter, services.Scan(tracking(), phone=PHONES[0]), actor=world.clerk
    )
    again = services.Scan(first.parcel.tracking_number, phone=PHONES[0])
    with CaptureQueriesContext(connection) as queries:
        result = services.intake(world.counter, again, actor=world.clerk)
    assert result.duplicate and result.parcel.pk == first.parcel.pk
    assert not [q for q in queries.captured_queries if q["sql"].startswith(("INSERT", "UPDATE"))]
    assert check(world.community.pk).ok


def test_a_batch_takes_a_fixed_number_of_statements_whatever_its_size(world):
    world.counter.daily_capacity = 1000
    world.counter.save()
    _one(world)
    one, ten = _batch(world, 1), _batch(world, 10)
    # One savepoint pair (the batch's transaction, inside the test's); the point locked; the carriers,
    # today's row, the parcels, the residents and the next codes read once; the
    # parcels and events inserted in bulk; the day and the point written; the messages queued
    # in one insert (the preferences came with the residents; the slots with the first scan).
    assert len(one) == len(ten) == 12, "\n".join(s[:120] for s in ten)
    assert PointDay.objects.get(point=world.counter).intakes == 12
    assert check(world.community.pk).ok
