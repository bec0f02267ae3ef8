"""When things are due: reminder steps after intake, the daily digest, and quiet hours.

All of it is arithmetic on the community's policy (``Community.reminder_hours``, ``hold_days``,
``digest_hour``, ``quiet_start``/``quiet_end``) in the community's time zone. The overdue and dead
definitions themselves live in :mod:`jianjian.parcels.policy`; the dead step is at its
:func:`~jianjian.parcels.policy.dead_at`, passed in, so the sweep and the clerk's lists agree.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from jianjian.communities.models import Community

REMINDER = "reminder"
DEAD = "dead"


@dataclass(frozen=True)
class Step:
    after: dt.timedelta  # age of the parcel (since intake) at which the step is due
    kind: str  # REMINDER or DEAD

    @property
    def hours(self) -> int:
        return int(self.after.total_seconds() // 3600)


def steps(community: Community, dead_after: dt.timedelta | None = None) -> list[Step]:
    """The community's reminders in order, then the parcel going dead ``dead_after`` its intake
    (:func:`jianjian.parcels.policy.dead_at` says when; the hold period if not given)."""
    from jianjian.parcels.policy import hold_period

    hold = dead_after if dead_after is not None else hold_period(community)
    hours = sorted({int(h) for h in (community.reminder_hours or []) if int(h) > 0})
    reminders = [Step(dt.timedelta(hours=h), REMINDER) for h in hours]
    return [s for s in reminders if s.after < hold] + [Step(hold, DEAD)]


def _dead_after(intake_at: dt.datetime, dead_at: dt.datetime | None) -> dt.timedelta | None:
    return None if dead_at is None else dead_at - intake_at


def next_step_at(
    community: Community,
    intake_at: dt.datetime,
    after: dt.datetime,
    dead_at: dt.datetime | None = None,
) -> dt.datetime:
    """When the first step later than ``after`` is due (the dead step, at the latest)."""
    all_steps = steps(community, _dead_after(intake_at, dead_at))
    for step in all_steps:
        at = intake_at + step.after
        if at > after:
            return at
    return intake_at + all_steps[-1].after


def first_step_at(
    community: Community, intake_at: dt.datetime, dead_at: dt.datetime | None = None
) -> dt.datetime:
    return intake_at + steps(community, _dead_after(intake_at, dead_at))[0].after


def due_step(
    community: Community,
    intake_at: dt.datetime,
    now: dt.datetime,
    dead_at: dt.datetime | None = None,
) -> Step | None:
    """The latest step due by ``now``: after a long outage only the latest one is sent."""
    due = [
        s for s in steps(community, _dead_after(intake_at, dead_at)) if intake_at + s.after <= now
    ]
    return due[-1] if due else None


def next_digest_at(community: Community, after: dt.datetime) -> dt.datetime:
    """The next ``digest_hour`` o'clock, local time, strictly after ``after``."""
    tz = ZoneInfo(community.time_zone)
    local = after.astimezone(tz)
    hour = min(int(community.digest_hour), 23)
    candidate = dt.datetime.combine(local.date(), dt.time(hour), tzinfo=tz)
    if candidate <= local:
        candidate = dt.datetime.combine(
            local.date() + dt.timedelta(days=1), dt.time(hour), tzinfo=tz
        )
    return candidate


def in_quiet(local: dt.time, start: dt.time, end: dt.time) -> bool:
    if start == end:
        return False
    if start < end:  # e.g. 13:00–14:00
        return start <= local < end
    return local >= start or local < end  # across midnight, e.g. 21:00–08:00


@functools.lru_cache(maxsize=512)  # a pure function, asked the same for a batch's messages
def after_quiet(
    now: dt.datetime, tz_name: str, quiet: tuple[dt.time, dt.time] | None
) -> dt.datetime:
    """``now`` if it is outside quiet hours, else the moment they end (local time)."""
    if quiet is None:
        return now
    start, end = quiet
    tz = ZoneInfo(tz_name)
    local = now.astimezone(tz)
    if not in_quiet(local.time(), start, end):
        return now
    release = dt.datetime.combine(local.date(), end, tzinfo=tz)
    if release <= local:
        release = dt.datetime.combine(local.date() + dt.timedelta(days=1), end, tzinfo=tz)
    return release
