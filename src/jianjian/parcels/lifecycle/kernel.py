"""The custody kernel: what every verb of the lifecycle does the same way.

A verb (announce, intake, hand-over, return, move, missing, found, recipient) runs in one
transaction that (1) locks what it changes, in one order (points by id, then the parcel), (2)
checks the transition against :mod:`jianjian.parcels.transitions`, (3) sets the parcel's new
state and place, and (4) calls :func:`record`, which saves the parcel, appends its custody event
and runs the event's hooks (:mod:`.hooks`: the custody log line, missing-parcel cases, the
outbox) directly, in the same transaction. No model signal is involved: whoever writes custody
events writes them here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from jianjian import hotsql as sql
from jianjian.communities.models import Community
from jianjian.couriers import carriers
from jianjian.couriers.models import Carrier
from jianjian.couriers.recognition import Recognition, recognize
from jianjian.parcels.errors import InvalidInput, InvalidTransition, ParcelError
from jianjian.parcels.lifecycle import hooks
from jianjian.parcels.matching import RecipientInfo
from jianjian.parcels.models import CustodyEvent, EventKind, Parcel, ParcelState
from jianjian.parcels.transitions import is_allowed
from jianjian.points.models import CollectionPoint, PointClosure

S = ParcelState


@dataclass(frozen=True)
class Actor:
    """Who does it: a signed-in user, or a named system (``worker``, ``demo``, a carrier API)."""

    user: User | None = None
    label: str = ""

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user=user, label=user.get_username())

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(label=label)


def local_date(community: Community, at: dt.datetime) -> dt.date:
    return at.astimezone(ZoneInfo(community.time_zone)).date()


# --- locking -------------------------------------------------------------------------------


def closed(point: CollectionPoint) -> InvalidInput:
    return InvalidInput(_("%(point)s is closed.") % {"point": point.name}, code="point_inactive")


_LOCK_POINT: dict[bool, str] = {}


def _lock_point_sql(*, scan: bool) -> str:
    """The point and its community, the point's row locked (what
    ``select_for_update(of=("self",)).select_related("community")`` sends), and how many
    temporary closures the point has; with ``scan``, also the id of the community's parcel with
    a given number, if there is one. Built once a process."""
    text = _LOCK_POINT.get(scan)
    if text is None:
        q = sql.quote
        lock = " FOR UPDATE OF p" if connection.features.has_select_for_update_of else ""
        parcel = (
            f", (SELECT x.{q('id')} FROM {sql.table(Parcel)} x WHERE x.{q('community_id')} = "
            f"p.{q('community_id')} AND x.{q('tracking_number')} = %s)"
            if scan
            else ""
        )
        text = (
            f"SELECT {sql.column_list(CollectionPoint, 'p')}, {sql.column_list(Community, 'c')}, "
            f"(SELECT count(*) FROM {sql.table(PointClosure)} z WHERE z.{q('community_id')} = "
            f"p.{q('community_id')} AND z.{q('point_id')} = p.{q('id')}){parcel} "
            f"FROM {sql.table(CollectionPoint)} p JOIN {sql.table(Community)} c "
            f"ON c.{q('id')} = p.{q('community_id')} "
            f"WHERE p.{q('community_id')} = %s AND p.{q('id')} = %s{lock}"
        )
        _LOCK_POINT[scan] = text
    return text


def lock_point(point: CollectionPoint) -> CollectionPoint:
    """``point`` read again with its row locked (and its community), or DoesNotExist; refused
    when it is closed."""
    return _lock_point(point, None)[0]


def lock_point_for_scan(point: CollectionPoint, number: str) -> tuple[CollectionPoint, bool]:
    """:func:`lock_point`, and in the same round trip whether the community has a parcel with
    ``number`` (then the caller locks and reads it; a new number needs no second statement).

    On PostgreSQL the answer is as of the statement's start: a scan of the same new number that
    held the point's lock meanwhile and committed it is not seen, so the insert that follows
    fails on the unique number and :func:`intake.intake_in_savepoint` runs the scan again, which
    then finds the parcel — the same answer as reading it after the lock, one race in a
    thousand scans later."""
    locked, exists = _lock_point(point, number)
    return locked, bool(exists)


def _lock_point(point: CollectionPoint, number: str | None) -> tuple[CollectionPoint, Any]:
    scan = number is not None
    params: list[Any] = [number] if scan else []
    with connection.cursor() as cursor:
        cursor.execute(_lock_point_sql(scan=scan), [*params, point.community_id, point.pk])
        row = cursor.fetchone()
    if row is None:
        raise CollectionPoint.DoesNotExist("CollectionPoint matching query does not exist.")
    width = len(CollectionPoint._meta.concrete_fields) + len(Community._meta.concrete_fields)
    locked, community = sql.split(row[:width], CollectionPoint, Community)
    assert isinstance(locked, CollectionPoint) and isinstance(community, Community)
    locked.community = community
    if not row[width]:
        locked._closure_spans = []  # type: ignore[attr-defined]  # none to read (read_closures)
    if not locked.active:
        raise closed(locked)
    return locked, row[width + 1] if scan else None


def read_closures(point: CollectionPoint) -> None:
    """Read the point's temporary closures in a statement built once, for its opening-hours
    rules (:meth:`CollectionPoint.closed_on` reads them once per instance otherwise); nothing
    when :func:`lock_point` found it has none."""
    if getattr(point, "_closure_spans", None) is not None:
        return
    closures = sql.fetch(
        PointClosure,
        sql.select_sql(PointClosure, "community_id = %s AND point_id = %s"),
        [point.community_id, point.pk],
    )
    point._closure_spans = [c.span() for c in closures]  # type: ignore[attr-defined]


def lock_parcel(parcel: Parcel) -> Parcel:
    return (
        Parcel.objects.select_for_update(of=("self",))
        .select_related("community")
        .get(community_id=parcel.community_id, pk=parcel.pk)
    )


def lock_points_then_parcel(parcel: Parcel, *also: CollectionPoint) -> Parcel:
    """Lock the parcel's point (and ``also``), in id order, and only then the parcel.

    Intake and hand-over lock point → parcel; every verb takes its locks in that same order so
    two of them can never wait on each other (a deadlock on PostgreSQL). The parcel's point is
    read first without a lock, so it is checked again once the parcel itself is locked.
    """
    point_id = (
        Parcel.objects.filter(community_id=parcel.community_id, pk=parcel.pk)
        .values_list("point_id", flat=True)
        .first()
    )
    ids = {p.pk for p in also} | ({point_id} if point_id is not None else set())
    list(
        CollectionPoint.objects.select_for_update()
        .filter(community_id=parcel.community_id, pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    locked = lock_parcel(parcel)
    if locked.point_id != point_id:
        raise ParcelError(_("The parcel changed meanwhile; try again."), code="conflict")
    return locked


# --- the transition ------------------------------------------------------------------------


def state_label(state: str | None) -> str:
    return str(S(state).label) if state else _("not known yet")


def require(parcel: Parcel, kind: str) -> None:
    if not is_allowed(parcel.state, kind):
        raise InvalidTransition(
            _("Parcel %(number)s is %(state)s: it cannot be %(action)s.")
            % {
                "number": parcel.tracking_number,
                "state": state_label(parcel.state),
                "action": EventKind(kind).label,
            },
            state=parcel.state,
        )


# --- recording -----------------------------------------------------------------------------


def record(
    parcel: Parcel,
    kind: str,
    actor: Actor,
    method: str,
    at: dt.datetime,
    *,
    counts: CollectionPoint | None = None,
    **fields: Any,
) -> CustodyEvent:
    """Save ``parcel`` (locked, already carrying its new state and place), append its event and
    run the event's hooks; ``counts``: a locked point whose counts to write as well."""
    parcel.event_count += 1
    if parcel.pk is None:
        # A new parcel and its first event go in together, with the point's counts (one
        # statement on PostgreSQL).
        event = event_of(parcel, kind, actor, method, at, **fields)
        after = _counts_update(counts) if counts is not None else None
        sql.insert_pair(parcel, event, "parcel_id", after=after)
    else:
        if counts is not None:
            save_counts(counts)
        save_parcel(parcel)
        event = event_of(parcel, kind, actor, method, at, **fields)
        sql.insert(event)  # append-only: always a new row (CustodyEvent.save's own rule)
    hooks.recorded([(parcel, event)])
    return event


def event_of(
    parcel: Parcel,
    kind: str,
    actor: Actor,
    method: str,
    at: dt.datetime,
    **fields: Any,
) -> CustodyEvent:
    """The (unsaved) event that records ``parcel``'s step to its current state, place and code;
    ``parcel.event_count`` already counts it."""
    return sql.new(
        CustodyEvent,
        community_id=parcel.community_id,
        parcel=parcel,
        seq=parcel.event_count,
        kind=kind,
        to_state=parcel.state,
        at=at,
        actor=actor.user,
        actor_label=actor.label[:100],
        method=method,
        point_id=fields.pop("point_id", parcel.point_id),
        slot_id=fields.pop("slot_id", parcel.slot_id),
        pickup_code=parcel.pickup_code,
        **fields,
    )


# --- small shared steps --------------------------------------------------------------------


def carrier(code: str) -> Carrier:
    """The carrier of ``code``, from this process's cache (the table changes a few times a
    year; couriers/carriers.py says how a change reaches every process)."""
    return carriers.carrier(code)


def apply_recipient(parcel: Parcel, info: RecipientInfo) -> None:
    if info.resident is not None:
        parcel.recipient = info.resident
        parcel.recipient_name = info.resident.name
        parcel.recipient_phone = info.resident.phone
        parcel.recipient_last4 = info.resident.phone_last4
        parcel.recipient_flat = info.resident.flat
        return
    parcel.recipient_name = info.name or parcel.recipient_name
    parcel.recipient_phone = info.phone or parcel.recipient_phone
    parcel.recipient_last4 = info.last4 or parcel.recipient_last4
    parcel.recipient_flat = info.flat or parcel.recipient_flat


def on_hand(community_id: int, point_id: int, delta: int) -> None:
    CollectionPoint.objects.filter(community_id=community_id, pk=point_id).update(
        on_hand=F("on_hand") + delta
    )


# Every write below names the row's community with its id: the tenant key leads each statement,
# so the tables can be distributed by community (docs/scale.md, tests/district/).


_SAVE_COUNTS: list[str] = []


def save_counts(point: CollectionPoint) -> None:
    """Write a locked point's on-hand count and pickup-code sequence."""
    with connection.cursor() as cursor:
        cursor.execute(*_counts_update(point))


def _counts_update(point: CollectionPoint) -> sql.Statement:
    if not _SAVE_COUNTS:
        q = sql.quote
        _SAVE_COUNTS.append(
            f"UPDATE {sql.table(CollectionPoint)} SET {q('on_hand')} = %s, {q('code_seq')} = %s "
            f"WHERE {q('community_id')} = %s AND {q('id')} = %s"
        )
    return _SAVE_COUNTS[0], [point.on_hand, point.code_seq, point.community_id, point.pk]


_PARCEL_COLUMNS = [f.attname for f in Parcel._meta.concrete_fields if not f.primary_key]


def save_parcel(parcel: Parcel) -> None:
    """Insert a new parcel, or write every column of a locked one."""
    if parcel.pk is not None:
        parcel.updated_at = timezone.now()
        values = {name: getattr(parcel, name) for name in _PARCEL_COLUMNS}
        if Parcel.objects.filter(community_id=parcel.community_id, pk=parcel.pk).update(**values):
            return
    sql.insert(parcel)


def recognition(raw: str) -> Recognition:
    """The normalised number and the carriers whose format it fits."""
    try:
        return recognize(raw)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), code=exc.code or "tracking_invalid") from None


def tracking(raw: str) -> tuple[str, str]:
    """The normalised number and the carrier code recognised from it (``unknown`` if several)."""
    rec = recognition(raw)
    return rec.number, rec.carrier
