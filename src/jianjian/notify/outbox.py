"""Queue notifications in the outbox, inside the transaction of the change that causes them.

The dedup key names the cause (parcel + custody event, or parcel + reminder step, or robot +
day), so a retried change or a sweep run twice can never queue the same message twice; the
worker delivers rows from this table and nothing else.

A resident's message is queued once per channel they chose (:class:`ResidentPreference`); SMS
and robot messages caused during quiet hours are queued with their first attempt at the end of
the quiet hours, so nothing buzzes at night and nothing is dropped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from jianjian import clock, hotsql
from jianjian.notify.messages import (
    SMS_LANGUAGE,
    age_text,
    deadline_text,
    render,
    sms_params,
    split_for_robot,
)
from jianjian.notify.models import (
    QUIET_CHANNELS,
    Channel,
    GroupRobot,
    Notification,
    ResidentPreference,
)
from jianjian.notify.schedule import after_quiet
from jianjian.parcels import policy

if TYPE_CHECKING:
    from jianjian.communities.models import Community, Resident
    from jianjian.couriers.models import Courier
    from jianjian.parcels.models import CustodyEvent, Parcel
    from jianjian.points.models import CollectionPoint


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
    params: dict[str, str] | None = None,
    robot: GroupRobot | None = None,
    quiet: tuple[dt.time, dt.time] | None = None,
    time_zone: str = "Asia/Shanghai",
) -> Notification | None:
    """Write one outbox row; a second call with the same key is a no-op (returns None).

    ``quiet`` (start, end) holds an SMS or robot message back until the quiet hours end.
    """
    row = outbox_row(
        parcel=parcel,
        community_id=community_id,
        cause=cause,
        dedup_key=dedup_key,
        address=address,
        body=body,
        channel=channel,
        due=due,
        language=language,
        params=params,
        robot=robot,
        quiet=quiet,
        time_zone=time_zone,
    )
    return _insert(row) if row is not None else None


def outbox_row(
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
    params: dict[str, str] | None = None,
    robot: GroupRobot | None = None,
    quiet: tuple[dt.time, dt.time] | None = None,
    time_zone: str = "Asia/Shanghai",
) -> Notification | None:
    """The (unsaved) row :func:`enqueue` writes, or None when there is nobody to write to."""
    if not address:
        return None
    channel = channel or settings.NOTIFY_DEFAULT_CHANNEL
    first_attempt = due or clock.now()
    if channel in QUIET_CHANNELS:
        first_attempt = after_quiet(first_attempt, time_zone, quiet)
    return hotsql.new(
        Notification,
        community_id=community_id,
        parcel=parcel,
        robot=robot,
        dedup_key=dedup_key[:200],
        cause=cause,
        channel=channel,
        address=address[:200],
        body=body,
        params=params or {},
        language=language,
        next_attempt_at=first_attempt,
    )


def _insert(row: Notification) -> Notification | None:
    try:
        with transaction.atomic():
            row.save(force_insert=True)
            return row
    except IntegrityError:
        return None


# --- residents ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    channel: str
    address: str
    language: str
    quiet: tuple[dt.time, dt.time] | None


def community_quiet(community: Community) -> tuple[dt.time, dt.time]:
    return community.quiet_start, community.quiet_end


def resident_quiet(resident: Resident | None) -> tuple[dt.time, dt.time] | None:
    """The resident's own quiet hours, if their record carries both ends."""
    start = getattr(resident, "quiet_start", None)
    end = getattr(resident, "quiet_end", None)
    if start is not None and end is not None and start != end:
        return start, end
    return None


def resident_targets(parcel: Parcel) -> list[Target]:
    """Where the parcel's recipient wants to hear: each chosen channel with its address."""
    pref = None
    if parcel.recipient_id is not None:
        pref = ResidentPreference.objects.filter(resident_id=parcel.recipient_id).first()
    return _targets(parcel, pref)


def _targets(parcel: Parcel, pref: ResidentPreference | None) -> list[Target]:
    community = parcel.community
    if pref is None:
        channels, language, email = [settings.NOTIFY_DEFAULT_CHANNEL], settings.LANGUAGE_CODE, ""
    else:
        channels, language, email = pref.channel_list(), pref.language, pref.email
    quiet = resident_quiet(_recipient(parcel)) or community_quiet(community)
    targets = []
    for channel in channels:
        address = email if channel == Channel.EMAIL else parcel.recipient_phone
        if address:
            targets.append(Target(channel, address, language, quiet))
    return targets


def _recipient(parcel: Parcel) -> Resident | None:
    """The parcel's resident, read by community and id unless the caller joined it in."""
    from jianjian.communities.models import Resident
    from jianjian.parcels.models import Parcel

    if parcel.recipient_id is None or Parcel.recipient.is_cached(parcel):
        return parcel.recipient
    return Resident.objects.filter(community_id=parcel.community_id, pk=parcel.recipient_id).first()


def _point(parcel: Parcel) -> CollectionPoint | None:
    """The parcel's point, read by community and id unless the caller joined it in."""
    from jianjian.parcels.models import Parcel
    from jianjian.points.models import CollectionPoint

    if parcel.point_id is None or Parcel.point.is_cached(parcel):
        return parcel.point
    return CollectionPoint.objects.filter(
        community_id=parcel.community_id, pk=parcel.point_id
    ).first()


# The pieces of a message that every parcel at one point, taken in at one moment, shares: a
# batch's 50 messages work them out once per language (:func:`parcels_arrived`).
Shared = dict[tuple[Any, ...], dict[str, Any]]


def _context(
    parcel: Parcel,
    language: str | None = None,
    deadline: dt.datetime | None = None,
    shared: Shared | None = None,
) -> dict[str, Any]:
    """The message's pieces in ``language``; ``deadline``: the parcel's, if already worked out
    (one message goes out in the templates' language and the resident's); ``shared``: where the
    pieces of the parcel's point and deadline are kept for the next parcel of a batch."""
    language = language or settings.LANGUAGE_CODE
    deadline = deadline or _deadline_at(parcel)
    key = (language, parcel.community_id, parcel.point_id, deadline)
    common = shared.get(key) if shared is not None else None
    if common is None:
        common = _point_context(parcel, language, deadline)
        if shared is not None:
            shared[key] = common
    return common | {
        "tail": parcel.tracking_number[-4:],
        "number": parcel.tracking_number,
        "code": parcel.pickup_code,
        "slot": parcel.slot.label if parcel.slot_id and parcel.slot else "",
        "carrier": str(parcel.carrier),
        "holder": parcel.collected_by,
    }


def _point_context(parcel: Parcel, language: str, deadline: dt.datetime | None) -> dict[str, Any]:
    community = parcel.community
    point = _point(parcel)
    return {
        "community": community.name,
        "point": point.name if point else "",
        "hours": point.opening_hours if point else "",
        "deadline": (deadline_text(deadline, community.time_zone, language) if deadline else ""),
        "days": community.hold_days,
    }


def _deadline_at(parcel: Parcel) -> dt.datetime | None:
    """The moment the parcel turns dead, as the policy places it; the texts only format it."""
    return policy.deadline(parcel)


def _last_chance(parcel: Parcel, now: dt.datetime) -> dt.datetime:
    """When a dead parcel can last be fetched before the courier takes it: the point's next
    closing time (today's if it is still open, else the next day it opens)."""
    tz = ZoneInfo(parcel.community.time_zone)
    local = timezone.localtime(now, tz)
    point = parcel.point
    for ahead in range(8):
        day = local.date() + dt.timedelta(days=ahead)
        hours = point.hours_on(day) if point else None
        if hours is None:
            continue
        opens, closes = hours
        close_day = day + dt.timedelta(days=1) if closes <= opens else day
        closing = dt.datetime.combine(close_day, closes, tzinfo=tz)
        if closing > local:
            return closing
    return now


def _localised(context: dict[str, Any], extra: dict[str, Any], language: str) -> dict[str, Any]:
    return context | {k: (v(language) if callable(v) else v) for k, v in extra.items()}


def to_recipient(parcel: Parcel, cause: str, key: str, **extra: Any) -> int:
    """Queue ``cause`` to the parcel's recipient on each of their channels; return rows queued."""
    rows = _recipient_rows(parcel, resident_targets(parcel), cause, key, extra)
    return sum(_insert(row) is not None for row in rows)


def _recipient_rows(
    parcel: Parcel,
    targets: list[Target],
    cause: str,
    key: str,
    extra: dict[str, Any],
    *,
    due: dt.datetime | None = None,
    shared: Shared | None = None,
) -> list[Notification]:
    rows = []
    deadline = _deadline_at(parcel)
    # The SMS template's variables are the same pieces in the templates' language.
    params = sms_params(
        cause,
        _localised(_context(parcel, SMS_LANGUAGE, deadline, shared), extra, SMS_LANGUAGE),
    )
    for target in targets:
        context = _localised(
            _context(parcel, target.language, deadline, shared), extra, target.language
        )
        row = outbox_row(
            parcel=parcel,
            community_id=parcel.community_id,
            cause=cause,
            dedup_key=f"{key}:{target.channel}",
            address=target.address,
            body=render(cause, target.language, **context),
            params=params,
            channel=target.channel,
            due=due,
            language=target.language,
            quiet=target.quiet,
            time_zone=parcel.community.time_zone,
        )
        if row is not None:
            rows.append(row)
    return rows


def _event_key(cause: str, parcel: Parcel, event: CustodyEvent) -> str:
    return f"{cause}:{parcel.pk}:{event.seq}"


def parcel_arrived(parcel: Parcel, event: CustodyEvent) -> None:
    to_recipient(parcel, "intake", _event_key("intake", parcel, event))


def parcels_arrived(arrivals: Sequence[tuple[Parcel, CustodyEvent]]) -> None:
    """:func:`parcel_arrived` for a batch of intakes: the same rows (keys, channels, bodies, first
    attempts) from one read of the residents' preferences and one insert. A row whose key is
    already queued is skipped, as :func:`enqueue` skips it."""
    prefs = _preferences([parcel for parcel, _event in arrivals])
    due = clock.now()  # one moment for the batch's first attempts
    shared: Shared = {}
    rows = [
        row
        for parcel, event in arrivals
        for row in _recipient_rows(
            parcel,
            _targets(parcel, prefs.get(parcel.recipient_id)),
            "intake",
            _event_key("intake", parcel, event),
            {},
            due=due,
            shared=shared,
        )
    ]
    # Built once per process rather than compiled by the ORM per batch (jianjian/hotsql.py).
    hotsql.insert_many(rows, ignore_conflicts=True)


def _preferences(parcels: Sequence[Parcel]) -> dict[int | None, ResidentPreference | None]:
    """The recipients' message preferences (None: the defaults): those the recipient arrived
    with (read with the resident when a scan matched it), the others in one read."""
    found: dict[int | None, ResidentPreference | None] = {}
    for parcel in parcels:
        if parcel.recipient_id is None or not type(parcel).recipient.is_cached(parcel):
            continue
        resident = parcel.recipient
        if resident is None:
            continue
        cache = type(resident).notify_preference.related
        if cache.is_cached(resident):
            pref = cache.get_cached_value(resident)
            found[resident.pk] = pref if isinstance(pref, ResidentPreference) else None
    unread = {p.recipient_id for p in parcels if p.recipient_id is not None} - found.keys()
    for pref in hotsql.fetch_in(ResidentPreference, "resident_id", sorted(unread)):
        found[pref.resident_id] = pref
    return found


def parcel_moved(parcel: Parcel, event: CustodyEvent) -> None:
    to_recipient(parcel, "moved", _event_key("moved", parcel, event))


def parcel_collected(parcel: Parcel, event: CustodyEvent) -> None:
    tz = parcel.community.time_zone
    to_recipient(
        parcel,
        "collected",
        _event_key("collected", parcel, event),
        time=lambda language: deadline_text(event.at, tz, language),
    )


def parcel_returned(parcel: Parcel, event: CustodyEvent) -> None:
    to_recipient(parcel, "returned", _event_key("returned", parcel, event))


# What the resident hears when a pre-advice ends (cancel, elsewhere, expire → the text's cause).
ENDED_CAUSES = ("elsewhere_door", "elsewhere_neighbour", "cancelled", "expired", "released")


def ended_cause(event: CustodyEvent) -> str:
    data = event.data or {}
    if event.kind == "elsewhere":
        return "elsewhere_neighbour" if data.get("place") == "neighbour" else "elsewhere_door"
    if event.kind == "expire":
        return "released" if data.get("reason") == "overflow" else "expired"
    return "cancelled"


def preadvice_ended(parcel: Parcel, event: CustodyEvent) -> int:
    """Tell the parcel's recipient that its pre-advice ended, and how (one message per ending,
    on each of their channels, keyed by the event).

    Residents get no message when a parcel is announced, but "my parcels" shows it "on its
    way" to whoever signs in with the phone it is addressed to; so whoever the parcel names is
    told what became of it — most of all where it is when it went to the door or a neighbour.
    """
    cause = ended_cause(event)
    community = parcel.community
    tz = community.time_zone
    days = (
        community.overflow_release_days if cause == "released" else community.announced_expire_days
    )
    return to_recipient(
        parcel,
        cause,
        _event_key(cause, parcel, event),
        time=lambda language: deadline_text(event.at, tz, language),
        days=days,
    )


def preadvice_ended_courier(
    community: Community,
    courier: Courier,
    numbers: Sequence[str],
    day: dt.date,
) -> int:
    """Tell ``courier`` once a day which of their announced parcels ended by themselves
    (expired or released), so they stop carrying them to the points."""
    if not numbers:
        return 0
    context = _ended_courier_context(community, numbers, day, settings.LANGUAGE_CODE)
    row = enqueue(
        parcel=None,
        community_id=community.pk,
        cause="preadvice_ended_courier",
        dedup_key=f"preadvice_ended_courier:{courier.pk}:{day.isoformat()}",
        address=courier.phone,
        body=render("preadvice_ended_courier", settings.LANGUAGE_CODE, **context),
        params=sms_params(
            "preadvice_ended_courier",
            _ended_courier_context(community, numbers, day, SMS_LANGUAGE),
        ),
        quiet=community_quiet(community),
        time_zone=community.time_zone,
    )
    return row is not None


ENDED_LISTED = 30  # tracking numbers named in a courier's notice; the rest are counted


def _ended_courier_context(
    community: Community, numbers: Sequence[str], day: dt.date, language: str
) -> dict[str, Any]:
    from jianjian.notify.messages import day_text

    listed = "、".join(numbers[:ENDED_LISTED])
    if len(numbers) > ENDED_LISTED:
        listed += " …"
    return {
        "community": community.name,
        "date": day_text(day, language),
        "count": len(numbers),
        "days": community.announced_expire_days,
        "release": community.overflow_release_days,
        "numbers": listed,
    }


def preadvice_ended_group(community: Community, numbers: Sequence[str], day: dt.date) -> int:
    """The same notice, once a day, to the community's couriers' group robots."""
    if not numbers:
        return 0
    text = render(
        "preadvice_ended_courier",
        settings.LANGUAGE_CODE,
        **_ended_courier_context(community, numbers, day, settings.LANGUAGE_CODE),
    )
    return sum(
        to_robot(
            robot, "preadvice_ended_group", f"preadvice_ended:{day.isoformat()}:{robot.pk}", text
        )
        for robot in robots(community.pk, "couriers")
    )


# --- the sweeps' messages ---------------------------------------------------------------------


def _intake_key(parcel: Parcel) -> str:
    # A parcel can be taken in again after a return: its steps start again with the new intake.
    assert parcel.intake_at is not None
    return f"{parcel.pk}:{int(parcel.intake_at.timestamp())}"


def parcel_reminder(parcel: Parcel, hours: int, now: dt.datetime) -> int:
    assert parcel.intake_at is not None
    age = now - parcel.intake_at
    return to_recipient(
        parcel,
        "reminder",
        f"reminder:{_intake_key(parcel)}:{hours}",
        age=lambda language: age_text(age, language),
    )


def parcel_dead(parcel: Parcel) -> int:
    """Tell the resident and the courier that the parcel is dead and due to go back."""
    last_chance = _last_chance(parcel, clock.now())
    tz = parcel.community.time_zone
    queued = to_recipient(
        parcel,
        "dead",
        f"dead:{_intake_key(parcel)}",
        deadline=lambda language: deadline_text(last_chance, tz, language),
    )
    courier = parcel.delivering_courier
    if courier is None:
        from jianjian.couriers.models import Courier as Couriers  # the model, not a type hint

        courier = Couriers.objects.serving(parcel.carrier_id, parcel.community_id).first()
    if courier is not None:
        context = _context(parcel)
        row = enqueue(
            parcel=parcel,
            community_id=parcel.community_id,
            cause="dead_courier",
            dedup_key=f"dead_courier:{_intake_key(parcel)}",
            address=courier.phone,
            body=render("dead_courier", settings.LANGUAGE_CODE, **context),
            params=sms_params("dead_courier", context),
            quiet=community_quiet(parcel.community),
            time_zone=parcel.community.time_zone,
        )
        queued += row is not None
    for robot in robots(parcel.community_id, "couriers"):
        text = render("dead_courier", settings.LANGUAGE_CODE, **_context(parcel))
        queued += to_robot(
            robot, "dead_group", f"dead_group:{_intake_key(parcel)}:{robot.pk}", text
        )
    return queued


def to_robot(robot: GroupRobot, cause: str, key: str, text: str) -> int:
    """Queue ``text`` to a group robot, split into parts that fit the robot's size limit."""
    from jianjian.notify.channels.robots import size_limit

    parts = split_for_robot(text, size_limit(robot.kind))
    queued = 0
    for i, part in enumerate(parts, start=1):
        row = enqueue(
            parcel=None,
            community_id=robot.community_id,
            cause=cause,
            dedup_key=f"{key}:p{i}",
            address=robot.name,
            body=part,
            channel=robot.kind,
            robot=robot,
            quiet=community_quiet(robot.community),
            time_zone=robot.community.time_zone,
        )
        queued += row is not None
    return queued


def robots(community_id: int, purpose: str) -> Iterable[GroupRobot]:
    return GroupRobot.objects.filter(
        community_id=community_id, purpose=purpose, active=True
    ).select_related("community")
