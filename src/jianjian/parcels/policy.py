"""Overdue and dead are derived from time and the community's policy, never stored guesses.

A parcel is *overdue* once its first reminder is due (default 24 h after intake) and *dead* once
the hold period (default 7 days) has passed. Every query that asks "which parcels are overdue /
dead" goes through these helpers so the clerk's list, the sweeps and the reports agree.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from jianjian.communities.models import Community
from jianjian.parcels.models import Parcel, ParcelState


def overdue_after(community: Community) -> dt.timedelta:
    hours = min(community.reminder_hours) if community.reminder_hours else 24
    return dt.timedelta(hours=hours)


def hold_period(community: Community) -> dt.timedelta:
    return dt.timedelta(days=community.hold_days)


def overdue_q(community: Community, now: dt.datetime) -> Q:
    """Parcels waiting at a point longer than the first reminder age."""
    return Q(state=ParcelState.AT_POINT, intake_at__lte=now - overdue_after(community))


def dead_q(community: Community, now: dt.datetime) -> Q:
    """Parcels waiting at a point past the hold period: due to go back to the courier."""
    return Q(state=ParcelState.AT_POINT, intake_at__lte=now - hold_period(community))


def is_overdue(parcel: Parcel, now: dt.datetime) -> bool:
    return (
        parcel.state == ParcelState.AT_POINT
        and parcel.intake_at is not None
        and parcel.intake_at <= now - overdue_after(parcel.community)
    )


def is_dead(parcel: Parcel, now: dt.datetime) -> bool:
    return (
        parcel.state == ParcelState.AT_POINT
        and parcel.intake_at is not None
        and parcel.intake_at <= now - hold_period(parcel.community)
    )
