"""The parcel's clock: when it is overdue and when it turns dead, derived from time, the
community's policy and the point's opening hours — never stored guesses.

A parcel is *overdue* once its first reminder is due (default 24 h after intake). It turns *dead*
at its point's closing time on the last day of the hold period (default 7 days after the day it
was taken in), so a resident always has that whole last day; when the point is closed that day,
at the closing time of the next day it is open (looking at most ``MAX_CLOSED_DAYS`` ahead).
:func:`dead_at` is the one place that moment is computed: the sweeps, the messages' deadline, the
counter's lists, the return queue and the reports all ask it (or :func:`dead_q` /
:func:`dead_cutoff`, which are built on it).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.db.models import Q

from jianjian.communities.models import Community
from jianjian.parcels.models import Parcel, ParcelState
from jianjian.points.models import CollectionPoint

# A point closed this many days in a row after the hold period: the parcel turns dead at the
# end of the hold period's last day instead of waiting longer.
MAX_CLOSED_DAYS = 14


def overdue_after(community: Community) -> dt.timedelta:
    hours = min(community.reminder_hours) if community.reminder_hours else 24
    return dt.timedelta(hours=hours)


def hold_period(community: Community) -> dt.timedelta:
    return dt.timedelta(days=community.hold_days)


def _closing(point: CollectionPoint, day: dt.date, tz: ZoneInfo) -> dt.datetime | None:
    """When ``point`` closes on the local ``day`` (the next morning when it is open past
    midnight), or None when it is closed that day."""
    hours = point.hours_on(day)
    if hours is None:
        return None
    opens, closes = hours
    end = day + dt.timedelta(days=1) if closes <= opens else day
    return dt.datetime.combine(end, closes, tzinfo=tz)


def dead_on(point: CollectionPoint, intake_day: dt.date) -> dt.datetime:
    """The moment a parcel taken in at ``point`` on the local ``intake_day`` turns dead."""
    community = point.community
    tz = ZoneInfo(community.time_zone)
    last = intake_day + dt.timedelta(days=community.hold_days)
    for extra in range(MAX_CLOSED_DAYS + 1):
        moment = _closing(point, last + dt.timedelta(days=extra), tz)
        if moment is not None:
            return moment
    return dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=tz)


def dead_at(point: CollectionPoint, intake_at: dt.datetime) -> dt.datetime:
    """The moment a parcel taken in at ``point`` at ``intake_at`` turns dead."""
    local = intake_at.astimezone(ZoneInfo(point.community.time_zone))
    return dead_on(point, local.date())


def deadline(parcel: Parcel) -> dt.datetime | None:
    """When ``parcel`` turns dead (None while it has not been taken in at a point)."""
    if parcel.intake_at is None or parcel.point_id is None:
        return None
    point = _point_of(parcel)
    return dead_at(point, parcel.intake_at) if point is not None else None


def _point_of(parcel: Parcel) -> CollectionPoint | None:
    """The parcel's point as the caller joined it in, else read by community and id (the tenant
    key first) and kept on the parcel for the next question."""
    if parcel.point_id is None or type(parcel).point.is_cached(parcel):
        return parcel.point
    point = CollectionPoint.objects.filter(
        community_id=parcel.community_id, pk=parcel.point_id
    ).first()
    parcel.point = point
    return point


def dead_cutoff(point: CollectionPoint, now: dt.datetime) -> dt.datetime:
    """Parcels at ``point`` taken in before this moment are dead at ``now``.

    Whether a parcel is dead depends only on its local intake day, later days turning dead no
    earlier; so the cutoff is the start of the day after the latest intake day already dead.
    """
    tz = ZoneInfo(point.community.time_zone)
    day = now.astimezone(tz).date() - dt.timedelta(days=point.community.hold_days)
    for _back in range(MAX_CLOSED_DAYS + 2):
        if dead_on(point, day) <= now:
            break
        day -= dt.timedelta(days=1)
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)


def overdue_q(community: Community, now: dt.datetime) -> Q:
    """Parcels waiting at a point longer than the first reminder age."""
    return Q(state=ParcelState.AT_POINT, intake_at__lte=now - overdue_after(community))


def dead_q(community: Community, now: dt.datetime) -> Q:
    """Parcels waiting at a point past their deadline: due to go back to the courier."""
    at_point = Q(pk__in=[])
    for point in CollectionPoint.objects.filter(community=community):
        point.community = community
        at_point |= Q(point_id=point.pk, intake_at__lt=dead_cutoff(point, now))
    return Q(state=ParcelState.AT_POINT) & at_point


def is_overdue(parcel: Parcel, now: dt.datetime) -> bool:
    return (
        parcel.state == ParcelState.AT_POINT
        and parcel.intake_at is not None
        and parcel.intake_at <= now - overdue_after(parcel.community)
    )


def is_dead(parcel: Parcel, now: dt.datetime) -> bool:
    moment = deadline(parcel) if parcel.state == ParcelState.AT_POINT else None
    return moment is not None and moment <= now
