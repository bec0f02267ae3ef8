"""When a parcel turns dead: at its point's closing time on the last day of the hold period (the
next open day's closing time when the point is closed that day), the same moment for the sweep,
the messages, the counter's lists, the return queue and the resident's page."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from jianjian.parcels import policy, services
from jianjian.parcels.models import CustodyEvent, EventKind, Parcel
from jianjian.parcels.queries import due_for_return, on_hand
from jianjian.points.models import CollectionPoint
from tests.factories import World, tracking

SH = ZoneInfo("Asia/Shanghai")
# Monday 2 March 2026, 10:30 in Shanghai; the world's counters open 9:00–20:00, hold 7 days.
MONDAY = dt.datetime(2026, 3, 2, 10, 30, tzinfo=SH)


def _taken_in(world: World, at: dt.datetime) -> Parcel:
    with time_machine.travel(at, tick=False):
        return services.intake(
            world.counter, tracking(), actor=world.clerk, phone="13812345678"
        ).parcel


def test_a_parcel_turns_dead_at_closing_time_on_the_last_day(world):
    parcel = _taken_in(world, MONDAY)
    closing = dt.datetime(2026, 3, 9, 20, 0, tzinfo=SH)
    assert policy.deadline(parcel) == closing
    # The whole last day belongs to the resident, whatever the hour of intake.
    late = _taken_in(world, MONDAY.replace(hour=19, minute=59))
    assert policy.deadline(late) == closing
    for moment, dead in ((closing - dt.timedelta(seconds=1), False), (closing, True)):
        assert policy.is_dead(parcel, moment) is dead
        listed = Parcel.objects.filter(policy.dead_q(world.community, moment), pk=parcel.pk)
        assert listed.exists() is dead
        returns = [p.pk for g in due_for_return(world.counter, moment) for p in g.parcels]
        assert (parcel.pk in returns) is dead
        row = next(r for r in on_hand(world.counter, moment).rows if r.parcel == parcel)
        assert row.dead is dead


class ClosedOnMondays(CollectionPoint):
    """The counter with a weekly closing day (the per-weekday hours stand-in)."""

    class Meta:
        proxy = True
        app_label = "points"

    def hours_on(self, day: dt.date) -> tuple[dt.time, dt.time] | None:
        return None if day.weekday() == 0 else (dt.time(9), dt.time(18))


def test_a_point_closed_on_the_last_day_keeps_the_parcel_to_its_next_closing(world):
    parcel = _taken_in(world, MONDAY)
    point = ClosedOnMondays.objects.get(pk=world.counter.pk)
    # The last day is Monday 9 March, closed: Tuesday's closing time.
    assert policy.dead_at(point, parcel.intake_at) == dt.datetime(2026, 3, 10, 18, tzinfo=SH)
    tuesday_evening = dt.datetime(2026, 3, 10, 18, tzinfo=SH)
    assert policy.dead_cutoff(point, tuesday_evening - dt.timedelta(seconds=1)) <= MONDAY
    assert policy.dead_cutoff(point, tuesday_evening) > parcel.intake_at


def test_a_point_closed_for_weeks_still_gives_a_deadline(world):
    class Shut(ClosedOnMondays):
        class Meta:
            proxy = True
            app_label = "points"

        def hours_on(self, day: dt.date) -> None:
            return None

    point = Shut.objects.get(pk=world.counter.pk)
    at = MONDAY.astimezone(dt.UTC)
    assert policy.dead_at(point, at) == dt.datetime(2026, 3, 10, 0, 0, tzinfo=SH)


def test_the_dead_notice_is_due_at_the_deadline(world):
    from jianjian.notify.schedule import DEAD, due_step

    parcel = _taken_in(world, MONDAY)
    deadline = policy.deadline(parcel)
    assert deadline is not None and parcel.intake_at is not None
    before = due_step(
        world.community, parcel.intake_at, deadline - dt.timedelta(minutes=1), deadline
    )
    at = due_step(world.community, parcel.intake_at, deadline, deadline)
    assert before is not None and before.kind != DEAD
    assert at is not None and at.kind == DEAD


@pytest.mark.parametrize(
    ("local", "warned"),
    [(MONDAY, False), (MONDAY.replace(hour=21), True), (MONDAY.replace(hour=8, minute=59), True)],
)
def test_intake_outside_opening_hours_is_taken_in_with_a_warning(world, local, warned):
    with time_machine.travel(local, tick=False):
        result = services.intake(world.counter, tracking(), actor=world.clerk, phone="13812345678")
    assert result.created
    assert ("outside_hours" in result.warnings) is warned
    event = CustodyEvent.objects.get(parcel=result.parcel, kind=EventKind.INTAKE)
    assert ("outside_hours" in event.data.get("warnings", [])) is warned
