"""Reading and showing a point's week of opening hours (stored on ``CollectionPoint.hours``)."""

from __future__ import annotations

import datetime as dt

from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import pgettext

from jianjian.points.models import WEEKDAYS, WeekHours, parse_day


def day_text(entry: object) -> str:
    """``09:00–20:30``, or "closed"."""
    try:
        hours = parse_day(entry)
    except ValueError:
        hours = None
    if hours is None:
        return pgettext("opening hours", "closed")
    return f"{hours[0]:%H:%M}–{hours[1]:%H:%M}"


def week_rows(week: object) -> list[tuple[str, str]]:
    """(weekday abbreviation, hours text) for Monday … Sunday."""
    days = week if isinstance(week, list) and len(week) == WEEKDAYS else [None] * WEEKDAYS
    return [(str(WEEKDAYS_ABBR[i]), day_text(days[i])) for i in range(WEEKDAYS)]


def week_summary(week: object) -> str:
    """The whole week in one line: runs of days with the same hours, e.g.
    ``Mon–Fri 09:00–20:30; Sat 10:00–18:00; Sun closed``; just the hours when every day is alike.
    """
    rows = week_rows(week)
    texts = [text for _day, text in rows]
    if len(set(texts)) == 1:
        return texts[0]
    runs: list[tuple[int, int, str]] = []
    for i, text in enumerate(texts):
        if runs and runs[-1][2] == text:
            runs[-1] = (runs[-1][0], i, text)
        else:
            runs.append((i, i, text))
    parts = []
    for first, last, text in runs:
        days = rows[first][0] if first == last else f"{rows[first][0]}–{rows[last][0]}"
        parts.append(f"{days} {text}")
    return "; ".join(parts)


def week_from_times(days: list[tuple[dt.time, dt.time] | None]) -> WeekHours:
    """The stored form of seven (opens, closes) pairs or None."""
    return [None if d is None else [f"{d[0]:%H:%M}", f"{d[1]:%H:%M}"] for d in days]
