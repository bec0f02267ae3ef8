"""Queue notifications in the outbox, inside the transaction of the change that causes them.

The dedup key names the cause (parcel + custody event), so a retried change can never queue the
same message twice; the worker delivers rows from this table and nothing else.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from jianjian.notify.messages import local_time, render
from jianjian.notify.models import Notification

if TYPE_CHECKING:
    from jianjian.parcels.models import CustodyEvent, Parcel


def enqueue(
    *,
    parcel: Parcel | None,
    community_id: int,
    cause: str,
    dedup_key: str,
    address: str,
    body: str,
    channel: str | None = None,
    due: dt.datetime | None = None,
    language: str = "zh-hans",
) -> Notification | None:
    """Write one outbox row; a second call with the same key is a no-op."""
    if not address:
        return None
    try:
        with transaction.atomic():
            return Notification.objects.create(
                community_id=community_id,
                parcel=parcel,
                dedup_key=dedup_key[:200],
                cause=cause,
                channel=channel or settings.NOTIFY_DEFAULT_CHANNEL,
                address=address,
                body=body,
                language=language,
                next_attempt_at=due or timezone.now(),
            )
    except IntegrityError:
        return None


def _context(parcel: Parcel) -> dict[str, str]:
    community = parcel.community
    point = parcel.point
    deadline = ""
    if parcel.intake_at is not None:
        deadline = local_time(
            parcel.intake_at + dt.timedelta(days=community.hold_days),
            community.time_zone,
            "%m-%d",
        )
    return {
        "community": community.name,
        "tail": parcel.tracking_number[-4:],
        "point": point.name if point else "",
        "hours": point.opening_hours if point else "",
        "code": parcel.pickup_code,
        "deadline": deadline,
        "carrier": str(parcel.carrier),
        "holder": parcel.collected_by,
    }


def _to_recipient(parcel: Parcel, event: CustodyEvent, cause: str, **extra: str) -> None:
    context = _context(parcel) | extra
    enqueue(
        parcel=parcel,
        community_id=parcel.community_id,
        cause=cause,
        dedup_key=f"{cause}:{parcel.pk}:{event.seq}",
        address=parcel.recipient_phone,
        body=render(cause, settings.LANGUAGE_CODE, **context),
    )


def parcel_arrived(parcel: Parcel, event: CustodyEvent) -> None:
    _to_recipient(parcel, event, "intake")


def parcel_moved(parcel: Parcel, event: CustodyEvent) -> None:
    _to_recipient(parcel, event, "moved")


def parcel_collected(parcel: Parcel, event: CustodyEvent) -> None:
    _to_recipient(parcel, event, "collected", time=local_time(event.at, parcel.community.time_zone))


def parcel_returned(parcel: Parcel, event: CustodyEvent) -> None:
    _to_recipient(parcel, event, "returned")
