"""The time-based sweeps the worker runs: reminders, dead parcels, the committee's daily digest.

Each sweep reads only what is due through an indexed ``next_*_at`` column
(``Parcel.next_reminder_at``, ``GroupRobot.next_digest_at``), and takes each item with a
conditional update on that column inside the transaction that queues its messages: two workers
sweeping at once cannot both take one item, and a crash leaves the item due, never half-done.

Dead parcels are not a stored state: a parcel past the hold period stays ``at_point`` and is in
the return queue (:func:`jianjian.parcels.policy.dead_q`) until a courier takes it back through
``services.return_to_courier``. The sweep only tells the resident, the courier and the couriers'
group, once.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from jianjian.communities.models import Community
from jianjian.communities.phones import mask_name, mask_phone
from jianjian.notify import outbox
from jianjian.notify.messages import render
from jianjian.notify.models import GroupRobot, RobotPurpose
from jianjian.notify.schedule import DEAD, due_step, next_digest_at, next_step_at
from jianjian.parcels import policy
from jianjian.parcels.models import Parcel, ParcelState

BATCH = 500


def sweep_parcels(now: dt.datetime, limit: int = BATCH, community_id: int | None = None) -> int:
    """Send the reminder or dead notice of every parcel whose next step is due (of all
    communities, or of one); return how many parcels were handled."""
    due = Parcel.objects.filter(next_reminder_at__lte=now)
    if community_id is not None:
        due = due.filter(community_id=community_id)
    # Finding what is due is one indexed read over all communities — the one deliberate fan-out
    # (a sharded database runs it on every shard at once; 200 routed reads per tick cost more).
    # Every statement that acts on a parcel names its community.
    rows = list(
        due.order_by("next_reminder_at").values_list("community_id", "pk", "next_reminder_at")[
            :limit
        ]
    )
    handled = 0
    for cid, pk, at in rows:
        if at is not None:  # the filter guarantees it; mypy cannot know
            handled += _parcel_step(cid, pk, at, now)
    return handled


def _parcel_step(community_id: int, pk: int, at: dt.datetime, now: dt.datetime) -> int:
    mine = Parcel.objects.filter(community_id=community_id, pk=pk)
    with transaction.atomic():
        # Lock the row only if it is still due as we read it; another worker may have taken it
        # (on PostgreSQL the second worker waits for the first, then finds the row moved on).
        locked = (
            mine.select_for_update()
            .filter(next_reminder_at=at)
            .values_list("pk", flat=True)
            .first()
        )
        if locked is None:
            return 0
        parcel = mine.select_related(
            "community", "point", "slot", "carrier", "delivering_courier", "recipient"
        ).get()
        nxt: dt.datetime | None = None
        if parcel.state == ParcelState.AT_POINT and parcel.intake_at is not None:
            community = parcel.community
            dead_at = policy.deadline(parcel)
            step = due_step(community, parcel.intake_at, now, dead_at)
            if step is not None and step.kind == DEAD:
                outbox.parcel_dead(parcel)
            else:
                if step is not None:
                    outbox.parcel_reminder(parcel, step.hours, now)
                nxt = next_step_at(community, parcel.intake_at, now, dead_at)
        mine.update(next_reminder_at=nxt)
    return 1


def sweep_digests(now: dt.datetime, community_id: int | None = None) -> int:
    """Post the daily digest to every committee robot whose digest hour has come."""
    robots = GroupRobot.objects.filter(
        active=True, purpose=RobotPurpose.COMMITTEE, next_digest_at__lte=now
    ).select_related("community")
    if community_id is not None:
        robots = robots.filter(community_id=community_id)
    posted = 0
    for robot in robots:
        with transaction.atomic():
            # Taken by moving its due time on, only if no other worker moved it first: one
            # digest per robot and day however many workers sweep.
            won = GroupRobot.objects.filter(
                community_id=robot.community_id, pk=robot.pk, next_digest_at=robot.next_digest_at
            ).update(next_digest_at=next_digest_at(robot.community, now))
            if won:
                posted += queue_digest(robot, now)
    return posted


def digest_text(community: Community, now: dt.datetime) -> str | None:
    """Flats with parcels waiting past the escalation delay, masked; None when there are none.

    A parcel is listed once it is overdue (:func:`policy.overdue_q`) *and* older than the
    community's ``escalation_delay_hours``: residents get their own reminders first, the
    committee hears about what those did not fix. Names are masked (张*), phones never shown
    beyond a masked tail for parcels without a known flat.
    """
    delay = max(
        policy.overdue_after(community), dt.timedelta(hours=community.escalation_delay_hours)
    )
    parcels = (
        Parcel.objects.filter(policy.overdue_q(community, now), community=community)
        .filter(intake_at__lte=now - delay)
        .select_related("recipient_flat")
        .order_by("intake_at")
    )
    flats: dict[str, dict[str, object]] = defaultdict(lambda: {"names": set(), "count": 0})
    oldest: dict[str, dt.datetime] = {}
    for p in parcels:
        flat = p.recipient_flat.code if p.recipient_flat else mask_phone(p.recipient_phone) or "?"
        entry = flats[flat]
        entry["count"] = int(entry["count"]) + 1  # type: ignore[call-overload]
        if p.recipient_name:
            entry["names"].add(mask_name(p.recipient_name))  # type: ignore[attr-defined]
        assert p.intake_at is not None
        oldest.setdefault(flat, p.intake_at)
    if not flats:
        return None
    language = settings.LANGUAGE_CODE
    local = now.astimezone(ZoneInfo(community.time_zone))
    lines = [
        render(
            "digest_title",
            language,
            community=community.name,
            hours=int(delay.total_seconds() // 3600),
            date=f"{local:%m-%d}",
            count=sum(int(e["count"]) for e in flats.values()),  # type: ignore[call-overload]
            flats=len(flats),
        )
    ]
    for flat in sorted(flats):
        entry = flats[flat]
        lines.append(
            render(
                "digest_line",
                language,
                flat=flat,
                name="、".join(sorted(entry["names"])),  # type: ignore[call-overload]
                count=entry["count"],
                days=(now - oldest[flat]).days,
            )
        )
    return "\n".join(lines)


def queue_digest(robot: GroupRobot, now: dt.datetime) -> int:
    text = digest_text(robot.community, now)
    if text is None:
        return 0
    day = now.astimezone(ZoneInfo(robot.community.time_zone)).date()
    return outbox.to_robot(robot, "digest", f"digest:{robot.pk}:{day.isoformat()}", text)


def run_sweeps(now: dt.datetime) -> int:
    # Disinfection alerts ride on the same loop: their dedup key (task + missed due time) makes
    # a repeated sweep queue nothing new.
    from jianjian.notify.board import sweep_boards
    from jianjian.points.disinfection import alert_overdue

    prune_idempotency_keys(now)  # housekeeping: queues nothing, so not counted
    return sweep_parcels(now) + sweep_digests(now) + alert_overdue(now) + sweep_boards(now)


def prune_idempotency_keys(now: dt.datetime | None = None) -> int:
    """Forget the API's idempotency records older than a day (their keys are free again)."""
    from jianjian.api.idempotency import prune

    return prune(now)
