"""The time-based sweeps the worker runs: reminders, dead parcels, the committee's daily digest,
and each community's daily round (pre-advice that expires, the day's re-plan, overflow released).

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
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from jianjian import bulk
from jianjian.communities.models import Community
from jianjian.communities.phones import mask_name, mask_phone
from jianjian.notify import outbox
from jianjian.notify.messages import render
from jianjian.notify.models import BoardPost, GroupRobot, RobotPurpose
from jianjian.notify.schedule import DEAD, due_step, next_digest_at, next_step_at
from jianjian.parcels import policy, services
from jianjian.parcels.errors import InvalidTransition
from jianjian.parcels.lifecycle import expire
from jianjian.parcels.lifecycle.kernel import Actor
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


# --- the daily round: pre-advice that ends, and the day's re-plan ------------------------------

# A round is claimed like a board message: a BoardPost row unique per (community, local day,
# kind), with its own kind — the same claim, no table of its own.
ROUND = "round"


def sweep_rounds(now: dt.datetime) -> int:
    """Run each community's daily round once per local day, at its first sweep after local
    midnight: expire stale pre-advice, re-plan the day's drops (yesterday's overflow gets today's
    room; a closure that starts today takes effect), release overflow unplaced too long, and
    tell the couriers. Returns how many parcels' pre-advice ended.

    Finding the rounds due reads every community's time zone (the tenant table itself, a
    deliberate fan-out like the other sweeps' reads of what is due) and today's claims by
    community; everything a round then reads or writes names its community.
    """
    zones = list(Community.objects.order_by("pk").values_list("pk", "time_zone"))
    days = {cid: now.astimezone(ZoneInfo(tz)).date() for cid, tz in zones}
    # By community, day and kind: the claims' unique index answers it, however many days of
    # claims the table holds.
    done = set(
        BoardPost.objects.filter(
            community_id__in=list(days), day__in=set(days.values()), kind=ROUND
        ).values_list("community_id", "day")
    )
    return sum(
        community_round(cid, day, now) for cid, day in days.items() if (cid, day) not in done
    )


def community_round(community_id: int, day: dt.date, now: dt.datetime) -> int:
    """One community's round for ``day``, in one transaction that first claims it with a
    :class:`BoardPost` row unique per (community, day, kind): a second worker at the same moment
    waits on that row and then finds it taken, and a crash leaves the whole round to the next
    tick. Each parcel still ends through the lifecycle verb, which locks it and checks it is
    announced, so nothing ends twice however the rounds overlap.

    The round holds the community's point locks while it runs (an intake at that moment waits):
    it runs at local midnight, and a usual night ends a handful of parcels and re-plans what is
    announced in a few set-based statements."""
    from jianjian.couriers import allocation
    from jianjian.couriers.models import Overflow

    with transaction.atomic():
        try:
            with transaction.atomic():
                BoardPost.objects.create(community_id=community_id, day=day, kind=ROUND, at=now)
        except IntegrityError:
            return 0  # another worker ran it
        community = Community.objects.get(pk=community_id)
        # Points before parcels, the order intake takes its locks in (no deadlock with a scan).
        allocation.lock_points(community)
        stale = Parcel.objects.filter(
            community_id=community_id,
            state=ParcelState.ANNOUNCED,
            announced_at__lt=now - dt.timedelta(days=community.announced_expire_days),
        )
        ended = _end_all(stale, expire.AGE)
        allocation.reallocate(community, now)
        unplaced = Overflow.objects.filter(
            community_id=community_id,
            computed_at__lt=now - dt.timedelta(days=community.overflow_release_days),
        ).values_list("parcel_id", flat=True)
        released_ids = sorted(unplaced)
        released: list[Parcel] = []
        for where in bulk.in_filters("pk", released_ids):
            mine = Parcel.objects.filter(community_id=community_id, state=ParcelState.ANNOUNCED)
            released += _end_all(mine.filter(where), expire.OVERFLOW)
        # Released parcels are off the plan: their overflow rows go with them.
        for where in bulk.in_filters("parcel_id", released_ids):
            Overflow.objects.filter(community_id=community_id).filter(where).delete()
        _tell_couriers(community, ended + released, day)
    return len(ended) + len(released)


def _end_all(parcels: QuerySet[Parcel], reason: str) -> list[Parcel]:
    """End each parcel's pre-advice for ``reason``; those no longer announced are skipped."""
    actor = Actor.system("worker")
    out = []
    for parcel in parcels.select_related("community", "carrier").order_by("pk"):
        try:
            out.append(services.expire_announced(parcel, actor=actor, reason=reason))
        except InvalidTransition:
            continue  # taken in (or ended) since it was read
    return out


def _tell_couriers(community: Community, parcels: Sequence[Parcel], day: dt.date) -> int:
    """One notice per courier (the one who announced the parcel, else an active courier of its
    carrier serving the community) and one to the couriers' group, listing what ended."""
    from jianjian.couriers.models import Courier

    by_courier: dict[int, list[str]] = defaultdict(list)
    fallback: dict[int, int | None] = {}
    for parcel in parcels:
        courier_id = parcel.delivering_courier_id
        if courier_id is None:
            if parcel.carrier_id not in fallback:
                fallback[parcel.carrier_id] = (
                    Courier.objects.serving(parcel.carrier_id, community.pk)
                    .values_list("pk", flat=True)
                    .first()
                )
            courier_id = fallback[parcel.carrier_id]
        if courier_id is not None:
            by_courier[courier_id].append(parcel.tracking_number)
    queued = 0
    for courier in Courier.objects.filter(pk__in=by_courier).order_by("pk"):
        queued += outbox.preadvice_ended_courier(community, courier, by_courier[courier.pk], day)
    numbers = [p.tracking_number for p in parcels]
    return queued + outbox.preadvice_ended_group(community, numbers, day)


def run_sweeps(now: dt.datetime) -> int:
    # Disinfection alerts ride on the same loop: their dedup key (task + missed due time) makes
    # a repeated sweep queue nothing new.
    from jianjian.notify.board import sweep_boards
    from jianjian.points.disinfection import alert_overdue

    prune_idempotency_keys(now)  # housekeeping: queues nothing, so not counted
    # The daily round first: the morning board then shows the day's plan as re-made.
    ended = sweep_rounds(now)
    return ended + sweep_parcels(now) + sweep_digests(now) + alert_overdue(now) + sweep_boards(now)


def prune_idempotency_keys(now: dt.datetime | None = None) -> int:
    """Forget the API's idempotency records older than a day (their keys are free again)."""
    from jianjian.api.idempotency import prune

    return prune(now)
