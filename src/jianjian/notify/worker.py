"""Deliver due outbox rows, and run the time-based sweeps.

Claiming: on PostgreSQL a batch is picked with ``SELECT … FOR UPDATE SKIP LOCKED`` and marked
``sending`` in the same transaction, so concurrent workers take disjoint batches without waiting
on each other. On SQLite (one writer at a time, IMMEDIATE transactions) each row is taken with a
conditional UPDATE whose row count tells whether this worker won it. A claim is a lease
(``claimed_until``, ``JIANJIAN_NOTIFY_CLAIM_SECONDS``, default 120 s, well above the 10 s HTTP
timeout): a row held by a worker that died is due again once its lease runs out.

Delivery is therefore at-least-once. A message is sent twice only if a worker dies after the
provider accepted it and before the row was marked sent, and then once more at most per crash:
the dedup key makes every *cause* a single row, so retries and re-sweeps never multiply messages.
Permanent failures (and rows out of attempts) are marked ``failed`` with the provider's answer,
visible on the parcel's page and in the admin.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from jianjian.notify.channels import (
    PermanentFailure,
    RateLimited,
    TemporaryFailure,
    get_channel,
)
from jianjian.notify.messages import IMMEDIATE_CAUSES, SECRET_CAUSES
from jianjian.notify.models import QUIET_CHANNELS, Notification, Status
from jianjian.notify.schedule import after_quiet

log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600
UPDATE_FIELDS = [
    "status",
    "attempts",
    "last_error",
    "provider_answer",
    "sent_at",
    "next_attempt_at",
    "claimed_until",
]


def claim_seconds() -> int:
    """``JIANJIAN_NOTIFY_CLAIM_SECONDS``, read (and checked) once by the settings."""
    return int(settings.NOTIFY_CLAIM_SECONDS)


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 60 s, 120 s … capped at an hour."""
    return dt.timedelta(
        seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS)
    )


def due_q(now: dt.datetime) -> Q:
    """Rows the worker may claim now: due and waiting, or claimed by a worker whose lease ran out.
    /readyz measures the backlog with this same condition."""
    return Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Status.SENDING, claimed_until__lt=now
    )


def claim(now: dt.datetime, limit: int = 50) -> list[Notification]:
    lease = now + dt.timedelta(seconds=claim_seconds())
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            pks = list(
                Notification.objects.filter(due_q(now))
                .order_by("next_attempt_at", "pk")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:limit]
            )
            Notification.objects.filter(pk__in=pks).update(
                status=Status.SENDING, claimed_until=lease
            )
    else:
        candidates = list(
            Notification.objects.filter(due_q(now))
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        pks = [
            pk
            for pk in candidates
            if Notification.objects.filter(due_q(now), pk=pk).update(
                status=Status.SENDING, claimed_until=lease
            )
        ]
    return list(
        Notification.objects.filter(pk__in=pks)
        .select_related("robot", "community")
        .order_by("next_attempt_at", "pk")
    )


def _release(notification: Notification, at: dt.datetime) -> None:
    """Put the row back, due at ``at``, without spending an attempt (quiet hours, rate limit)."""
    notification.status = Status.PENDING
    notification.next_attempt_at = at
    notification.claimed_until = None
    notification.save(update_fields=UPDATE_FIELDS)


def _held_back(notification: Notification, now: dt.datetime) -> dt.datetime | None:
    """When a retry lands in quiet hours or a robot is at its limit: the time to try again."""
    if (
        notification.channel in QUIET_CHANNELS
        and notification.attempts > 0
        and notification.cause not in IMMEDIATE_CAUSES
    ):
        community = notification.community
        release = after_quiet(
            now, community.time_zone, (community.quiet_start, community.quiet_end)
        )
        if release > now:
            return release
    if notification.robot_id is not None:
        from jianjian.notify.channels.robots import take_turn

        return take_turn(notification.robot_id, notification.channel, now)
    return None


def deliver(notification: Notification) -> None:
    now = timezone.now()
    later = _held_back(notification, now)
    if later is not None:
        _release(notification, later)
        return
    notification.attempts += 1
    try:
        answer = get_channel(notification.channel).send(notification)
    except PermanentFailure as exc:
        notification.status = Status.FAILED
        notification.last_error = str(exc)[:2000]
    except RateLimited as exc:
        # The provider said "slow down": not the message's fault, so the attempt is not spent.
        notification.attempts -= 1
        notification.last_error = f"rate limited: {exc}"[:2000]
        notification.status = Status.PENDING
        notification.next_attempt_at = now + dt.timedelta(seconds=exc.retry_after)
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
    if notification.status == Status.FAILED:
        log.warning("notification %s failed for good: %s", notification.pk, notification.last_error)
    notification.claimed_until = None
    fields = UPDATE_FIELDS
    if notification.cause in SECRET_CAUSES and notification.status in (Status.SENT, Status.FAILED):
        # A sign-in code must not outlive its delivery in the database.
        notification.body = "(removed after delivery)"
        notification.params = {}
        fields = [*UPDATE_FIELDS, "body", "params"]
    notification.save(update_fields=fields)


def run_once(limit: int = 50) -> int:
    """Deliver one batch of due notifications; return how many were tried."""
    batch = claim(timezone.now(), limit)
    for notification in batch:
        deliver(notification)
    return len(batch)


def drain(limit: int = 50) -> int:
    total = 0
    while (n := run_once(limit)) > 0:
        total += n
    return total


def tick() -> tuple[int, int]:
    """One round of the worker: the sweeps queue what is due, then the outbox is drained.
    Returns (items swept, notifications tried)."""
    from jianjian.notify.sweeps import run_sweeps

    swept = run_sweeps(timezone.now())
    return swept, drain()
