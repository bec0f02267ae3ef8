"""Pre-advice that ends by itself: the parcel never arrived within the community's
``announced_expire_days`` (reason ``age``), or the daily re-plan found it no room at any point
for ``overflow_release_days`` (reason ``overflow``: the overflow is *released*, the courier
delivers it otherwise).

Both are the one custody event EXPIRE → state EXPIRED with the reason in its data: to the record
they are the same fact (the points no longer expect the parcel, nobody holds it for the
community), and a parcel that turns up after all is taken in from EXPIRED like any other. Run by
the worker's daily round (:func:`jianjian.notify.sweeps.sweep_rounds`).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from jianjian import clock
from jianjian.notify import outbox
from jianjian.parcels.errors import InvalidInput
from jianjian.parcels.lifecycle.kernel import Actor, lock_parcel, record, require
from jianjian.parcels.models import EventKind, Method, Parcel, ParcelState

AGE = "age"
OVERFLOW = "overflow"
REASONS = (AGE, OVERFLOW)


@transaction.atomic
def expire_announced(
    parcel: Parcel, *, actor: Actor, reason: str, method: str = Method.SYSTEM
) -> Parcel:
    """End ``parcel``'s pre-advice because it is too old (``age``) or found no room
    (``overflow``); the resident who could see it on their page is told why, in the same
    transaction. Raises InvalidTransition if the parcel is no longer announced (taken in,
    cancelled, or expired by another worker a moment ago)."""
    if reason not in REASONS:
        raise InvalidInput(_("Unknown reason for ending a pre-advice."), code="reason_invalid")
    parcel = lock_parcel(parcel)
    require(parcel, EventKind.EXPIRE)
    now = clock.now()
    parcel.state = ParcelState.EXPIRED
    parcel.closed_at = now
    event = record(parcel, EventKind.EXPIRE, actor, method, now, data={"reason": reason})
    if _news(parcel, reason, now):
        outbox.preadvice_ended(parcel, event)
    return parcel


# A pre-advice is news to its resident for a couple of days after it is due to expire. Older ones
# (the first round after an upgrade, or after the worker was down for weeks) end quietly: an SMS
# about a parcel announced months ago helps nobody.
NEWS_DAYS = 2


def _news(parcel: Parcel, reason: str, now: dt.datetime) -> bool:
    if reason != AGE or parcel.announced_at is None:
        return True
    days = parcel.community.announced_expire_days + NEWS_DAYS
    return now - parcel.announced_at <= dt.timedelta(days=days)
