"""The scan path's round trips, pinned: a new parcel for a known resident, as one scan and as a
batch. A change that adds a statement to every scan shows here first."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from jianjian.couriers.carriers import carrier
from jianjian.parcels import services
from jianjian.parcels.fold import check
from jianjian.points.models import PointDay
from tests.factories import World, tracking

PHONES = ["13812345678", "13912345678", "13500000000"]


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


def test_one_scan_takes_fourteen_statements(world):
    _one(world)  # today's row exists from now on, as on any busy day
    statements = _one(world)
    # A savepoint pair (the scan's own subtransaction); the point locked; the parcel looked up
    # (locked if it exists); the resident matched; today's count upserted in one statement; the
    # slots and the next code read (the carrier comes from the process's cache); the point's
    # closures read for its hours (deadline, out-of-hours warning); the point's counts written; the parcel and its
    # event inserted; the resident's preferences read; the message queued.
    assert len(statements) == 14, "\n".join(s[:120] for s in statements)
    assert not [s for s in statements if s.startswith("SELECT") and "pointday" in s]
    assert PointDay.objects.get(point=world.counter).intakes == 2
    assert check(world.community.pk).ok


def test_the_first_scan_of_a_day_creates_its_row_in_the_same_statement(world):
    carrier("sf")  # a running process knows its carriers already (couriers/carriers.py)
    assert len(_one(world)) == 14
    assert PointDay.objects.get(point=world.counter).intakes == 1


def test_a_batch_takes_a_fixed_number_of_statements_whatever_its_size(world):
    world.counter.daily_capacity = 1000
    world.counter.save()
    _one(world)
    one, ten = _batch(world, 1), _batch(world, 10)
    # Two savepoint pairs (the batch's, its fast attempt's); the point locked; the slots, the
    # carriers, today's row, the parcels, the residents and the next codes read once; the
    # parcels and events inserted in bulk; the day and the point written; preferences read and
    # the messages queued in one insert.
    assert len(one) == len(ten) == 17, "\n".join(s[:120] for s in ten)
    assert PointDay.objects.get(point=world.counter).intakes == 12
    assert check(world.community.pk).ok
