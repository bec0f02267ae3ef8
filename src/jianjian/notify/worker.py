"""Deliver due outbox rows. Safe with several workers: a row is claimed by a conditional UPDATE
that only one worker can win, and a claim that outlives a crashed worker expires.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from jianjian.notify.channels import PermanentFailure, TemporaryFailure, get_channel
from jianjian.notify.models import Notification, Status

log = logging.getLogger(__name__)

CLAIM_SECONDS = 120
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 60 s, 120 s … capped at an hour."""
    return dt.timedelta(
        seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS)
    )


def _due(now: dt.datetime) -> Q:
    return Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Status.SENDING, claimed_until__lt=now
    )


def claim(now: dt.datetime, limit: int = 50) -> list[Notification]:
    candidates = list(
        Notification.objects.filter(_due(now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    claimed = []
    for pk in candidates:
        won = Notification.objects.filter(_due(now), pk=pk).update(
            status=Status.SENDING, claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS)
        )
        if won:
            claimed.append(pk)
    return list(Notification.objects.filter(pk__in=claimed).order_by("next_attempt_at"))


def deliver(notification: Notification) -> None:
    now = timezone.now()
    notification.attempts += 1
    try:
        answer = get_channel(notification.channel).send(notification)
    except PermanentFailure as exc:
        notification.status = Status.FAILED
        notification.last_error = str(exc)[:2000]
    except (TemporaryFailure, Exception) as exc:
        notification.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if notification.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
            notification.status = Status.FAILED
        else:
            notification.status = Status.PENDING
            notification.next_attempt_at = now + backoff(notification.attempts)
    else:
        notification.status = Status.SENT
        notification.sent_at = now
        notification.provider_answer = answer[:2000]
        notification.last_error = ""
    notification.claimed_until = None
    notification.save(
        update_fields=[
            "status",
            "attempts",
            "last_error",
            "provider_answer",
            "sent_at",
            "next_attempt_at",
            "claimed_until",
        ]
    )


def run_once(limit: int = 50) -> int:
    """Deliver one batch of due notifications; return how many were tried."""
    batch = claim(timezone.now(), limit)
    for notification in batch:
        deliver(notification)
    return len(batch)
