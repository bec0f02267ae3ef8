"""A point's week of opening hours and its temporary closures, as every rule reads them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from jianjian.points.hours import week_summary
from jianjian.points.models import CollectionPoint, PointClosure, uniform_hours, validate_week

MONDAY = dt.date(2026, 11, 2)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute))


def test_each_weekday_has_its_own_hours_and_a_day_may_be_closed():
    week = uniform_hours(dt.time(9), dt.time(20))
    week[5] = ["10:00", "16:00"]
    week[6] = None
    point = CollectionPoint(hours=week)
    assert point.hours_on(MONDAY) == (dt.time(9), dt.time(20))
    assert point.hours_on(MONDAY + dt.timedelta(days=5)) == (dt.time(10), dt.time(16))
    assert point.hours_on(MONDAY + dt.timedelta(days=6)) is None
    assert point.is_open_at(at(MONDAY, 9)) and not point.is_open_at(at(MONDAY, 20))
    assert not point.is_open_at(at(MONDAY + dt.timedelta(days=5), 17))
    assert not point.is_open_at(at(MONDAY + dt.timedelta(days=6), 12))
    with translation.override("en"):
        summary = week_summary(week)
    assert summary == "Mon–Fri 09:00–20:00; Sat 10:00–16:00; Sun closed"


def test_hours_past_midnight_belong_to_the_evening_before():
    week: list[list[str] | None] = [None] * 7
    week[4] = ["18:00", "02:00"]  # Friday evening into Saturday
    point = CollectionPoint(hours=week)
    friday, saturday = MONDAY + dt.timedelta(days=4), MONDAY + dt.timedelta(days=5)
    assert point.is_open_at(at(friday, 23)) and point.is_open_at(at(saturday, 1))
    assert not point.is_open_at(at(saturday, 3)) and not point.is_open_at(at(friday, 1))


def test_a_point_made_with_one_pair_of_times_opens_those_hours_every_day():
    point = CollectionPoint(opens_at=dt.time(9), closes_at=dt.time(20, 30))  # type: ignore[misc]
    assert point.hours == [["09:00", "20:30"]] * 7
    assert point.opening_hours == "09:00–20:30"


@pytest.mark.parametrize(
    "week",
    [[], [["09:00", "20:00"]] * 6, [["09:00", "09:00"]] * 7, [["9", "x"]] * 7, "09:00-20:00"],
)
def test_a_malformed_week_is_refused(week):
    with pytest.raises(ValidationError):
        validate_week(week)


@pytest.mark.django_db
def test_a_closure_closes_whole_days_and_ending_it_early_reopens(world):
    point = world.counter
    closure = PointClosure.objects.create(
        community=world.community,
        point=point,
        starts_on=MONDAY,
        ends_on=MONDAY + dt.timedelta(days=2),
        reason="装修",
    )
    fresh = CollectionPoint.objects.get(pk=point.pk)
    assert fresh.hours_on(MONDAY - dt.timedelta(days=1)) is not None
    assert fresh.hours_on(MONDAY) is None and not fresh.is_open_at(at(MONDAY, 12))
    assert fresh.hours_on(MONDAY + dt.timedelta(days=2)) is None
    assert fresh.hours_on(MONDAY + dt.timedelta(days=3)) is not None
    closure.reopened_on = MONDAY + dt.timedelta(days=1)
    closure.save()
    fresh = CollectionPoint.objects.get(pk=point.pk)
    assert fresh.hours_on(MONDAY) is None
    assert fresh.hours_on(MONDAY + dt.timedelta(days=1)) is not None


@pytest.mark.django_db
def test_refreshing_a_point_reads_its_closures_again(world):
    point = world.counter
    assert point.hours_on(MONDAY) is not None
    PointClosure.objects.create(
        community=world.community, point=point, starts_on=MONDAY, ends_on=MONDAY, reason="x"
    )
    point.refresh_from_db()
    assert point.hours_on(MONDAY) is None
