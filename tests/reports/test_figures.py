"""Report figures from a generated month of custody, compared with an independent replay of the
events in the test; dwell percentiles against a hand-made example."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from zoneinfo import ZoneInfo

import pytest
import time_machine

from jianjian.notify.models import Notification, Status
from jianjian.parcels import services
from jianjian.parcels.models import CustodyEvent, EventKind, Parcel, ParcelState
from jianjian.points import disinfection
from jianjian.reports.figures import compute, percentile
from tests.factories import World, tracking

SH = ZoneInfo("Asia/Shanghai")
START = dt.date(2024, 3, 1)
DAYS = 30


def test_percentiles_against_a_hand_made_example():
    # Sorted: 1 2 4 7 10 — median is the middle one; p90 sits 0.6 of the way from 7 to 10.
    assert percentile([10, 1, 7, 2, 4], 0.5) == 4
    assert percentile([10, 1, 7, 2, 4], 0.9) == pytest.approx(7 + 0.6 * 3)
    # Even count: the median is halfway between the two middle values.
    assert percentile([3, 1, 4, 8], 0.5) == 3.5
    assert percentile([5], 0.9) == 5
    assert percentile([], 0.5) is None


def _at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SH)


def generate_month(world: World, seed: int = 7) -> None:
    """A month at two counters through the services: intake, pickup, returns of dead parcels,
    moves, a parcel missing over a night and found, notifications half delivered."""
    r = random.Random(seed)
    counters = [world.counter, world.counter2]
    task = None
    for offset in range(DAYS):
        day = START + dt.timedelta(days=offset)
        with time_machine.travel(_at(day, 8, 0), tick=False):
            if task is None:
                task = disinfection.setup_task(world.counter, "柜台", interval_hours=6)
        for _ in range(r.randint(3, 7)):
            with time_machine.travel(_at(day, r.randint(9, 12), r.randint(0, 59)), tick=False):
                resident = r.choice(world.residents)
                services.intake(
                    r.choice(counters), tracking(), actor=world.clerk, phone=resident.phone
                )
        waiting = list(Parcel.objects.filter(state=ParcelState.AT_POINT).order_by("pk"))
        with time_machine.travel(_at(day, 13, r.randint(0, 59)), tick=False):
            if waiting and offset % 4 == 1:
                services.move(
                    waiting[0],
                    to_point=world.counter2
                    if waiting[0].point_id == world.counter.pk
                    else world.counter,
                    actor=world.clerk,
                )
            if waiting and offset == 10:
                services.mark_missing(waiting[-1], actor=world.clerk)
        with time_machine.travel(_at(day, 16, r.randint(0, 59)), tick=False):
            now = services.clock.now()
            for parcel in waiting:
                parcel.refresh_from_db()
                if parcel.state != ParcelState.AT_POINT:
                    continue
                age = now - parcel.intake_at
                if age > dt.timedelta(days=8):  # dead a day before the courier comes
                    services.return_to_courier(parcel, courier=world.sf_courier, actor=world.clerk)
                elif r.random() < 0.35:
                    point = parcel.point
                    services.hand_over(point, [parcel], actor=world.clerk)
        if offset == 12:
            with time_machine.travel(_at(day, 10, 30), tick=False):
                lost = Parcel.objects.filter(state=ParcelState.MISSING).first()
                assert lost is not None
                services.mark_found(lost, point=world.counter, actor=world.clerk)
        with time_machine.travel(_at(day, 8 + r.randint(0, 3), 0), tick=False):
            if r.random() < 0.7:
                disinfection.log_done(task, user=None, label="clerk")
    # Half the messages were delivered.
    for n, note in enumerate(Notification.objects.order_by("pk")):
        if n % 2 == 0:
            Notification.objects.filter(pk=note.pk).update(status=Status.SENT)


def replay(world: World) -> dict:
    """The independent calculation: walk every event in time order, parcel by parcel."""
    tz = SH
    days = [START + dt.timedelta(days=i) for i in range(DAYS)]
    counts: dict = defaultdict(int)
    dwell: dict = defaultdict(list)
    place: dict[int, int | None] = {}
    intake_at: dict[int, dt.datetime] = {}
    events = list(CustodyEvent.objects.order_by("at", "parcel_id", "seq"))
    ends = {d: dt.datetime.combine(d + dt.timedelta(days=1), dt.time(), tzinfo=tz) for d in days}
    snapshots: dict = {}
    i = 0
    for d in days:
        while i < len(events) and events[i].at < ends[d]:
            ev = events[i]
            i += 1
            local_day = ev.at.astimezone(tz).date()
            if ev.kind == EventKind.INTAKE:
                intake_at[ev.parcel_id] = ev.at
                counts[("intake", ev.point_id, local_day)] += 1
            if ev.kind == EventKind.HAND_OVER:
                counts[("handovers", ev.point_id, local_day)] += 1
                dwell[(ev.point_id, local_day)].append(
                    (ev.at - intake_at[ev.parcel_id]).total_seconds() / 3600
                )
            if ev.kind == EventKind.RETURN:
                counts[("returns", ev.point_id, local_day)] += 1
            place[ev.parcel_id] = ev.point_id if ev.to_state == ParcelState.AT_POINT else None
        snapshots[d] = dict(place)
    expected: dict = {}
    for p in world.points:
        for d in days:
            here = [pid for pid, point in snapshots[d].items() if point == p.pk]
            end = ends[d]
            expected[(p.pk, d)] = {
                "intake": counts[("intake", p.pk, d)],
                "handovers": counts[("handovers", p.pk, d)],
                "returns": counts[("returns", p.pk, d)],
                "on_hand": len(here),
                "overdue": sum(end - intake_at[pid] >= dt.timedelta(hours=24) for pid in here),
                "dead": sum(end - intake_at[pid] >= dt.timedelta(days=7) for pid in here),
                "dwell": sorted(dwell[(p.pk, d)]),
            }
    return expected


@pytest.mark.django_db
def test_a_generated_month_matches_an_independent_replay(world):
    generate_month(world)
    assert CustodyEvent.objects.filter(kind=EventKind.MOVE).exists()
    assert CustodyEvent.objects.filter(kind=EventKind.RETURN).exists()
    expected = replay(world)
    # The month exercises every figure: parcels overdue and dead at some day's end.
    assert any(want["overdue"] for want in expected.values())
    assert any(want["dead"] for want in expected.values())
    with time_machine.travel(_at(START + dt.timedelta(days=DAYS + 3), 12, 0), tick=False):
        report = compute(world.community, START, START + dt.timedelta(days=DAYS - 1))
    checked = 0
    for (pid, day), want in expected.items():
        got = report.rows[(pid, day)]
        assert (got.intake, got.handovers, got.returns) == (
            want["intake"],
            want["handovers"],
            want["returns"],
        ), (pid, day)
        assert got.on_hand == want["on_hand"], (pid, day)
        assert (got.overdue, got.dead) == (want["overdue"], want["dead"]), (pid, day)
        assert sorted(got.dwell_hours) == pytest.approx(want["dwell"])
        checked += got.intake + got.handovers
    assert checked > 100
    # The community row adds the points up; range totals take the last day's levels.
    for day in report.days:
        assert report.rows[(None, day)].on_hand == sum(
            report.rows[(p.pk, day)].on_hand for p in world.points
        )
    last = report.days[-1]
    assert report.totals[None].on_hand == report.rows[(None, last)].on_hand
    assert report.totals[world.counter.pk].intake == sum(
        want["intake"] for (pid, _d), want in expected.items() if pid == world.counter.pk
    )
    # Today's on-hand equals the point's stored counter (the custody check's own figure).
    world.counter.refresh_from_db()
    assert report.rows[(world.counter.pk, last)].on_hand == world.counter.on_hand


@pytest.mark.django_db
def test_delivery_rate_capacity_and_disinfection_on_time(world):
    day = dt.date(2024, 4, 2)
    with time_machine.travel(_at(day, 8, 0), tick=False):
        task = disinfection.setup_task(world.counter, "柜台", interval_hours=4)
        disinfection.log_done(task, user=None, label="c")  # on time (first due 12:00)
    with time_machine.travel(_at(day, 13, 0), tick=False):
        disinfection.log_done(task, user=None, label="c")  # due 12:00: late
    with time_machine.travel(_at(day, 10, 0), tick=False):
        for _ in range(4):
            services.intake(
                world.counter, tracking(), actor=world.clerk, phone=world.residents[0].phone
            )
    first = Notification.objects.filter(parcel__point=world.counter).order_by("pk").first()
    Notification.objects.filter(pk=first.pk).update(status=Status.SENT)
    report = compute(world.community, day, day)
    row = report.rows[(world.counter.pk, day)]
    assert row.capacity_used == 4 / 50
    assert row.delivery_rate == 1 / 4
    assert (row.disinfections, row.disinfection_on_time) == (2, 0.5)
    assert report.rows[(world.counter2.pk, day)].delivery_rate is None
