"""The lifecycle services: the only code that changes a parcel's state.

Every function here runs in one transaction that (1) locks what it changes, (2) checks the
transition against :mod:`jianjian.parcels.transitions`, (3) updates the parcel and the point's
on-hand count, (4) appends one custody event per parcel and (5) queues the notifications the change
causes in the outbox. Either all of it is written, or none of it.

Web views, the API and the CLI call these functions and nothing else to change a parcel.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.translation import gettext as _

from jianjian import bulk, clock
from jianjian.communities.models import Community, PickupProxy, Resident
from jianjian.communities.phones import mask_phone
from jianjian.couriers.models import Carrier, Courier
from jianjian.couriers.recognition import UNKNOWN, recognize
from jianjian.notify import outbox
from jianjian.notify.schedule import first_step_at, next_step_at
from jianjian.ops.logs import log_bulk_custody
from jianjian.parcels.errors import (
    CapacityExceeded,
    InvalidInput,
    InvalidTransition,
    NotFound,
    ParcelError,
    RecipientNeeded,
)
from jianjian.parcels.matching import RecipientInfo, Typed, match_recipient, match_recipients
from jianjian.parcels.models import CustodyEvent, EventKind, Method, Parcel, ParcelState
from jianjian.parcels.placement import (
    CodeBook,
    active_slots,
    choose_slot,
    following_seq,
    next_pickup_code,
    next_shelf,
    pickup_code,
)
from jianjian.parcels.transitions import is_allowed
from jianjian.points.models import CollectionPoint, PointDay, PointKind, Slot, SlotSize

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


@dataclass
class IntakeResult:
    parcel: Parcel
    created: bool = False
    duplicate: bool = False
    found: bool = False
    warnings: list[str] = field(default_factory=list)
    remaining_capacity: int = 0


# --- helpers -------------------------------------------------------------------------------


def local_date(community: Community, at: dt.datetime) -> dt.date:
    return at.astimezone(ZoneInfo(community.time_zone)).date()


def _lock_point(point: CollectionPoint) -> CollectionPoint:
    locked = (
        CollectionPoint.objects.select_for_update(of=("self",))
        .select_related("community")
        .get(pk=point.pk)
    )
    if not locked.active:
        raise InvalidInput(
            _("%(point)s is closed.") % {"point": locked.name}, code="point_inactive"
        )
    return locked


def _lock_parcel(parcel: Parcel) -> Parcel:
    return (
        Parcel.objects.select_for_update(of=("self",)).select_related("community").get(pk=parcel.pk)
    )


def _lock_points_then_parcel(parcel: Parcel, *also: CollectionPoint) -> Parcel:
    """Lock the parcel's point (and ``also``), in id order, and only then the parcel.

    Intake and hand-over lock point → parcel; every service takes its locks in that same order so
    two of them can never wait on each other (a deadlock on PostgreSQL). The parcel's point is
    read first without a lock, so it is checked again once the parcel itself is locked.
    """
    point_id = Parcel.objects.filter(pk=parcel.pk).values_list("point_id", flat=True).first()
    ids = {p.pk for p in also} | ({point_id} if point_id is not None else set())
    list(
        CollectionPoint.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    locked = _lock_parcel(parcel)
    if locked.point_id != point_id:
        raise ParcelError(_("The parcel changed meanwhile; try again."), code="conflict")
    return locked


def _state_label(state: str | None) -> str:
    return str(S(state).label) if state else _("not known yet")


def _require(parcel: Parcel, kind: str) -> None:
    if not is_allowed(parcel.state, kind):
        raise InvalidTransition(
            _("Parcel %(number)s is %(state)s: it cannot be %(action)s.")
            % {
                "number": parcel.tracking_number,
                "state": _state_label(parcel.state),
                "action": EventKind(kind).label,
            },
            state=parcel.state,
        )


def _record(
    parcel: Parcel,
    kind: str,
    actor: Actor,
    method: str,
    at: dt.datetime,
    **fields: Any,
) -> CustodyEvent:
    """Save ``parcel`` (locked, already carrying its new state and place) and append its event."""
    parcel.event_count += 1
    parcel.save()
    event = _event_of(parcel, kind, actor, method, at, **fields)
    event.save(force_insert=True)
    return event


def _event_of(
    parcel: Parcel,
    kind: str,
    actor: Actor,
    method: str,
    at: dt.datetime,
    **fields: Any,
) -> CustodyEvent:
    """The (unsaved) event that records ``parcel``'s step to its current state, place and code;
    ``parcel.event_count`` already counts it."""
    return CustodyEvent(
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


def _carrier(code: str) -> Carrier:
    carrier, _created = Carrier.objects.get_or_create(code=code, defaults={"name": code})
    return carrier


def _apply_recipient(parcel: Parcel, info: RecipientInfo) -> None:
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


def _on_hand(point_id: int, delta: int) -> None:
    CollectionPoint.objects.filter(pk=point_id).update(on_hand=F("on_hand") + delta)


def _tracking(raw: str) -> tuple[str, str]:
    try:
        rec = recognize(raw)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), code=exc.code or "tracking_invalid") from None
    return rec.number, rec.carrier


# --- pre-advice ----------------------------------------------------------------------------


@transaction.atomic
def announce(
    community: Community,
    tracking_number: str,
    *,
    actor: Actor,
    method: str = Method.API,
    carrier_code: str = "",
    recipient: RecipientInfo | None = None,
    planned_point: CollectionPoint | None = None,
    courier: Courier | None = None,
    size: str = SlotSize.M,
) -> tuple[Parcel, bool]:
    """Register a pre-advised parcel. Re-announcing a known number changes nothing."""
    number, recognised = _tracking(tracking_number)
    existing = Parcel.objects.filter(community=community, tracking_number=number).first()
    if existing is not None:
        return existing, False
    now = clock.now()
    parcel = Parcel(
        community=community,
        tracking_number=number,
        carrier=_carrier(carrier_code or recognised),
        state=S.ANNOUNCED,
        size=size,
        planned_point=planned_point,
        delivering_courier=courier,
        announced_at=now,
    )
    if recipient is not None:
        _apply_recipient(parcel, recipient)
    try:
        with transaction.atomic():
            _record(parcel, EventKind.ANNOUNCE, actor, method, now, courier=courier)
    except IntegrityError:
        # Another request announced the same number a moment ago: theirs stands.
        return Parcel.objects.get(community=community, tracking_number=number), False
    return parcel, True


@dataclass(frozen=True)
class Announcement:
    """One validated pre-advice row for :func:`announce_many` (number already normalised)."""

    tracking_number: str
    carrier_code: str
    name: str = ""
    phone: str = ""
    resident_id: int | None = None
    flat_id: int | None = None
    size: str = SlotSize.M


# Rows announced per savepoint: a concurrent announcer sends only this many down the slow path.
ANNOUNCE_BATCH = 10_000


@transaction.atomic
def announce_many(
    community: Community,
    rows: Sequence[Announcement],
    *,
    actor: Actor,
    method: str = Method.MANIFEST,
    courier: Courier | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, list[str]]:
    """Announce many parcels in one transaction with bulk inserts (manifests, carrier feeds).

    Same rules as :func:`announce`: numbers already known change nothing and are returned.
    Returns (number created, numbers already known). Rows go in batches of ``ANNOUNCE_BATCH``,
    each in a savepoint; if a concurrent writer announces one of a batch's numbers meanwhile,
    that batch falls back to :func:`announce` row by row, which settles each race.
    ``progress`` is called with each batch's size once it is written.

    Bulk inserts send no ``post_save``, so the custody log gets one summary line for the events
    written in bulk (see :func:`jianjian.ops.logs.log_bulk_custody`) instead of one per event;
    rows of the row-by-row fallback are logged one by one like any other event.
    """
    created, known, in_bulk = 0, [], 0
    for start in range(0, len(rows), ANNOUNCE_BATCH):
        batch = rows[start : start + ANNOUNCE_BATCH]
        try:
            with transaction.atomic():
                n, k = _announce_batch(community, batch, actor, method, courier)
            in_bulk += n
        except IntegrityError:
            n, k = _announce_one_by_one(community, batch, actor, method, courier)
        created += n
        known += k
        if progress is not None:
            progress(len(batch))
    if in_bulk:
        log_bulk_custody(
            count=in_bulk,
            kind=EventKind.ANNOUNCE,
            to_state=S.ANNOUNCED,
            community_id=community.pk,
            method=method,
            actor=actor.label[:100],
        )
    return created, known


def _announce_one_by_one(
    community: Community,
    rows: Sequence[Announcement],
    actor: Actor,
    method: str,
    courier: Courier | None,
) -> tuple[int, list[str]]:
    created, known = 0, []
    for row in rows:
        parcel, new = announce(
            community,
            row.tracking_number,
            actor=actor,
            method=method,
            carrier_code=row.carrier_code,
            courier=courier,
            size=row.size,
            recipient=RecipientInfo(
                resident=Resident.objects.filter(pk=row.resident_id).first()
                if row.resident_id
                else None,
                name=row.name,
                phone=row.phone,
                last4=row.phone[-4:],
            ),
        )
        created += new
        if not new:
            known.append(parcel.tracking_number)
    return created, known


def _known_numbers(community: Community, numbers: list[str]) -> set[str]:
    known: set[str] = set()
    for where in bulk.in_filters("tracking_number", numbers):
        known.update(
            Parcel.objects.filter(where, community=community).values_list(
                "tracking_number", flat=True
            )
        )
    return known


def _announce_batch(
    community: Community,
    rows: Sequence[Announcement],
    actor: Actor,
    method: str,
    courier: Courier | None,
) -> tuple[int, list[str]]:
    """Insert the parcels of ``rows`` not known yet, and their announce events, in bulk."""
    numbers = [r.tracking_number for r in rows]
    known = _known_numbers(community, numbers)
    carriers = {c.code: c.pk for c in Carrier.objects.all()}
    now = clock.now()
    parcels: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in rows:
        if row.tracking_number in known or row.tracking_number in seen:
            continue
        seen.add(row.tracking_number)
        if row.carrier_code not in carriers:
            carriers[row.carrier_code] = _carrier(row.carrier_code).pk
        parcels.append(_announced_parcel(community, row, carriers[row.carrier_code], courier, now))
    event = _announce_event(community, actor, method, courier, now)
    if bulk.available():
        _copy_announced(parcels, event)
    else:
        created = Parcel.objects.bulk_create([Parcel(**p) for p in parcels], batch_size=2000)
        CustodyEvent.objects.bulk_create(
            (CustodyEvent(parcel_id=p.pk, **event) for p in created), batch_size=2000
        )
    return len(parcels), sorted(known & set(numbers))


def _announced_parcel(
    community: Community,
    row: Announcement,
    carrier_id: int,
    courier: Courier | None,
    now: dt.datetime,
) -> dict[str, Any]:
    """The fields of a freshly announced parcel (both write paths build the rows from this)."""
    return {
        "community_id": community.pk,
        "tracking_number": row.tracking_number,
        "carrier_id": carrier_id,
        "state": S.ANNOUNCED.value,
        "size": row.size,
        "delivering_courier_id": courier.pk if courier else None,
        "announced_at": now,
        "recipient_id": row.resident_id,
        "recipient_name": row.name[:50],
        "recipient_phone": row.phone,
        "recipient_last4": row.phone[-4:],
        "recipient_flat_id": row.flat_id,
        "event_count": 1,
    }


def _announce_event(
    community: Community, actor: Actor, method: str, courier: Courier | None, now: dt.datetime
) -> dict[str, Any]:
    """The fields every announce event of a batch shares (all but its parcel)."""
    return {
        "community_id": community.pk,
        "seq": 1,
        "kind": EventKind.ANNOUNCE.value,
        "to_state": S.ANNOUNCED.value,
        "at": now,
        "actor_id": actor.user.pk if actor.user else None,
        "actor_label": actor.label[:100],
        "method": str(method),
        "courier_id": courier.pk if courier else None,
    }


def _copy_announced(parcels: list[dict[str, Any]], event: dict[str, Any]) -> None:
    """PostgreSQL: write the parcels and their events with COPY, ids reserved beforehand."""
    ids = bulk.reserve_ids(Parcel, len(parcels))
    for pk, parcel in zip(ids, parcels, strict=True):
        parcel["id"] = pk
    bulk.copy_insert(Parcel, parcels)
    bulk.copy_insert(CustodyEvent, [{"parcel_id": pk, **event} for pk in ids])


# --- intake --------------------------------------------------------------------------------


def intake(
    point: CollectionPoint,
    tracking_number: str,
    *,
    actor: Actor,
    method: str = Method.SCAN,
    phone: str = "",
    phone_last4: str = "",
    flat: str = "",
    name: str = "",
    slot: Slot | None = None,
    size: str = "",
    override_reason: str = "",
    courier: Courier | None = None,
) -> IntakeResult:
    """Take a parcel in at ``point``.

    Idempotent: scanning a number that is already at this point returns it unchanged. Scanning a
    parcel recorded missing finds it here. Refused past the day's capacity unless
    ``override_reason`` says why.
    """
    scan = Scan(tracking_number, phone, phone_last4, flat, name, size, override_reason)
    outcome = _intake_in_savepoint(point, scan, actor, method, courier, slot)
    if isinstance(outcome, ParcelError):
        raise outcome
    return outcome


@dataclass(frozen=True)
class Scan:
    """One scan of a batch for :func:`intake_many`: what :func:`intake` takes besides the point."""

    tracking_number: str
    phone: str = ""
    phone_last4: str = ""
    flat: str = ""
    name: str = ""
    size: str = ""
    override_reason: str = ""


def intake_many(
    point: CollectionPoint,
    scans: Sequence[Scan],
    *,
    actor: Actor,
    method: str = Method.SCAN,
    courier: Courier | None = None,
) -> list[IntakeResult | ParcelError]:
    """Take a station's scan stream in at ``point``: the same rules as :func:`intake`, one outcome
    per scan, in order, as if the scans were taken one after another.

    The batch is one transaction holding the point's lock once. The common scans (a new or
    pre-advised parcel at a shelf or counter) are decided in memory and written together
    (:class:`_BatchIntake`); any other scan goes through :func:`intake`'s own path in a
    savepoint, so a refused scan writes nothing and does not undo the others. If a concurrent
    writer inserts one of the numbers meanwhile, the batch is redone scan by scan, which settles
    each race as :func:`intake` does.
    """
    with transaction.atomic():
        locked = _lock_point(point)
        try:
            with transaction.atomic():
                return _BatchIntake(locked, actor, method, courier).run(scans)
        except IntegrityError:
            pass  # the savepoint undid the whole fast attempt; the scans go one by one
        return [_intake_in_savepoint(point, scan, actor, method, courier) for scan in scans]


def _intake_in_savepoint(
    point: CollectionPoint,
    scan: Scan,
    actor: Actor,
    method: str,
    courier: Courier | None,
    slot: Slot | None = None,
) -> IntakeResult | ParcelError:
    """One intake in its own (sub)transaction; domain errors are returned, not raised."""
    scanned = _scanned_number(scan)
    if isinstance(scanned, ParcelError):
        return scanned
    number, carrier_code = scanned
    for _attempt in range(2):
        try:
            with transaction.atomic():
                return _intake(
                    point,
                    number,
                    carrier_code,
                    actor=actor,
                    method=method,
                    phone=scan.phone,
                    phone_last4=scan.phone_last4,
                    flat=scan.flat,
                    name=scan.name,
                    slot=slot,
                    size=scan.size,
                    override_reason=scan.override_reason,
                    courier=courier,
                )
        except ParcelError as exc:
            return exc
        except IntegrityError:
            # Two scans of one new number at two points raced and the other insert won. Run once
            # more: now the parcel exists and the ordinary rules answer.
            continue
    return ParcelError(_("The parcel could not be saved; scan it again."), code="conflict")


def _intake(
    point: CollectionPoint,
    number: str,
    carrier_code: str,
    *,
    actor: Actor,
    method: str,
    phone: str,
    phone_last4: str,
    flat: str,
    name: str,
    slot: Slot | None,
    size: str,
    override_reason: str,
    courier: Courier | None,
) -> IntakeResult:
    point = _lock_point(point)
    community = point.community
    now = clock.now()
    parcel = (
        Parcel.objects.select_for_update(of=("self",))
        .filter(community=community, tracking_number=number)
        .first()
    )
    if parcel is not None:
        if parcel.state == S.AT_POINT and parcel.point_id == point.pk:
            return IntakeResult(parcel, duplicate=True, remaining_capacity=_remaining(point, now))
        if parcel.state == S.AT_POINT:
            raise InvalidTransition(
                _("Parcel %(number)s is already at %(point)s (code %(code)s); move it instead.")
                % {"number": number, "point": parcel.point, "code": parcel.pickup_code},
                code="at_other_point",
            )
        if parcel.state == S.MISSING:
            return _found_at(parcel, point, actor, method, now, slot)
        _require(parcel, EventKind.INTAKE)

    typed = match_recipient(community, phone=phone, phone_last4=phone_last4, flat=flat, name=name)
    if typed.empty and not _recipient_known(parcel):
        raise _recipient_needed()

    day, _created = PointDay.objects.select_for_update().get_or_create(
        point=point, date=local_date(community, now), defaults={"community": community}
    )
    reason = override_reason.strip()
    if day.intakes >= point.daily_capacity and not reason:
        raise _capacity_exceeded(point, day)

    created = parcel is None
    if parcel is None:
        parcel = Parcel(community=community, tracking_number=number, carrier=_carrier(carrier_code))
    resident = typed.resident or parcel.recipient
    if point.kind == PointKind.LOCKER and resident is not None and not resident.locker_consent:
        raise InvalidInput(
            _("%(name)s has not agreed to lockers; take the parcel in at a counter or shelf.")
            % {"name": resident.name},
            code="locker_consent",
        )
    chosen = choose_slot(point, size or parcel.size, slot)
    code = next_pickup_code(point, chosen)
    warnings = _intake_warnings(parcel, point)
    over = day.intakes >= point.daily_capacity
    _arrive(parcel, point, typed, size, chosen, code, now, courier)
    event = _record(
        parcel,
        EventKind.INTAKE,
        actor,
        method,
        now,
        courier=courier,
        data=_intake_data(over, reason, warnings),
    )

    day.intakes += 1
    day.overrides += 1 if over else 0
    day.save(update_fields=["intakes", "overrides"])
    point.on_hand += 1
    point.save(update_fields=["on_hand", "code_seq"])
    outbox.parcel_arrived(parcel, event)
    return IntakeResult(
        parcel,
        created=created,
        warnings=warnings,
        remaining_capacity=max(point.daily_capacity - day.intakes, 0),
    )


# --- the rules intake() and the batch share --------------------------------------------------


def _recipient_known(parcel: Parcel | None) -> bool:
    return parcel is not None and bool(parcel.recipient_id or parcel.recipient_phone)


def _recipient_needed() -> RecipientNeeded:
    return RecipientNeeded(
        _("Whose parcel is this? Type the phone's last 4 digits and the flat, or the full phone.")
    )


def _capacity_exceeded(point: CollectionPoint, day: PointDay) -> CapacityExceeded:
    return CapacityExceeded(
        _(
            "%(point)s has taken in %(count)s of %(capacity)s parcels today: it is full. "
            "Give a reason to take this one in anyway."
        )
        % {"point": point.name, "count": day.intakes, "capacity": point.daily_capacity},
        capacity=point.daily_capacity,
        intakes=day.intakes,
    )


def _intake_warnings(parcel: Parcel, point: CollectionPoint) -> list[str]:
    if parcel.planned_point_id and parcel.planned_point_id != point.pk:
        return ["wrong_point"]
    return []


def _intake_data(over: bool, reason: str, warnings: list[str]) -> dict[str, Any]:
    """What the intake event keeps beyond the place: the override's reason, the warnings."""
    data: dict[str, Any] = {}
    if over:
        data["override_reason"] = reason[:500]
    if warnings:
        data["warnings"] = warnings
    return data


def _arrive(
    parcel: Parcel,
    point: CollectionPoint,
    typed: RecipientInfo,
    size: str,
    slot: Slot,
    code: str,
    now: dt.datetime,
    courier: Courier | None,
) -> None:
    """Set on ``parcel`` what an intake changes: the recipient typed, the size, its place and
    code, and the reminder clock (a parcel taken in again after a return starts afresh)."""
    if not typed.empty:
        _apply_recipient(parcel, typed)
    if size:
        parcel.size = size
    parcel.state = S.AT_POINT
    parcel.point = point
    parcel.slot = slot
    parcel.pickup_code = code
    parcel.intake_at = now
    parcel.next_reminder_at = first_step_at(point.community, now)
    parcel.closed_at = None
    parcel.returned_to = None
    parcel.collected_by = ""
    if courier is not None:
        parcel.delivering_courier = courier


# The parcel fields an intake of a known (pre-advised or returned) parcel changes: _arrive's
# fields, the event count and the update stamp that save() would set.
_INTAKE_FIELDS = [
    "recipient",
    "recipient_name",
    "recipient_phone",
    "recipient_last4",
    "recipient_flat",
    "size",
    "state",
    "point",
    "slot",
    "pickup_code",
    "intake_at",
    "next_reminder_at",
    "closed_at",
    "returned_to",
    "collected_by",
    "delivering_courier",
    "event_count",
    "updated_at",
]


# --- the batch -----------------------------------------------------------------------------


@dataclass
class _Arrival:
    """An intake decided in memory, waiting for the batch's next write."""

    parcel: Parcel
    created: bool
    data: dict[str, Any]


class _BatchIntake:
    """:func:`intake_many`'s set-based path, inside its transaction, at its locked point.

    It reads once what every scan of :func:`_intake` reads again: the batch's parcels, the day's
    count, the slots, the carriers, the recipients and the next pickup codes. It decides the
    common scans against counters kept in memory (the day's intakes, the point's code sequence
    and on-hand count, the codes held) and buffers them; :meth:`_flush` writes the buffer with
    a few bulk statements. Every other scan (a missing parcel found, a parcel at another point or
    gone, a locker, a number scanned twice in the batch) first flushes the buffer, then runs
    :func:`_intake`'s path in a savepoint, and the counters are read again after it, so each scan
    sees exactly what it would have seen taken one after another.
    """

    def __init__(
        self, point: CollectionPoint, actor: Actor, method: str, courier: Courier | None
    ) -> None:
        self.point = point
        self.community = point.community
        self.actor = actor
        self.method = method
        self.courier = courier
        self.now = clock.now()
        # Lockers allocate compartments against what is in them: those scans go one by one.
        slots = active_slots(point) if point.kind != PointKind.LOCKER else []
        self.shelves = [s for s in slots if not s.is_compartment]
        self.carriers = {c.code: c for c in Carrier.objects.all()}
        self.day = self._read_day()
        self.codes = CodeBook(point)
        self.pending: list[_Arrival] = []

    def run(self, scans: Sequence[Scan]) -> list[IntakeResult | ParcelError]:
        numbers = [_scanned_number(scan) for scan in scans]
        parcels = self._read_parcels([n[0] for n in numbers if isinstance(n, tuple)])
        recipients = match_recipients(
            self.community, [Typed(s.phone, s.phone_last4, s.flat, s.name) for s in scans]
        )
        self._probe_codes(len(scans))
        outcomes: list[IntakeResult | ParcelError] = []
        seen: set[str] = set()
        for scan, number, recipient in zip(scans, numbers, recipients, strict=True):
            if isinstance(number, ParcelError):
                outcomes.append(number)
                continue
            parcel = parcels.get(number[0])
            if number[0] in seen or not self._decidable(parcel):
                outcomes.append(self._one_by_one(scan))
            else:
                outcomes.append(self._take(scan, number, parcel, recipient))
            seen.add(number[0])
        self._flush()
        return outcomes

    # --- reading ---

    def _read_day(self) -> PointDay:
        """Today's row, locked; an unsaved one when nothing was taken in today (it is written
        with the first intake, as get_or_create would)."""
        date = local_date(self.community, self.now)
        day = PointDay.objects.select_for_update().filter(point=self.point, date=date).first()
        return day or PointDay(community=self.community, point=self.point, date=date)

    def _read_parcels(self, numbers: list[str]) -> dict[str, Parcel]:
        if not numbers:
            return {}
        by_id = {c.pk: c for c in self.carriers.values()}
        found = (
            Parcel.objects.select_for_update(of=("self",))
            .select_related("recipient")
            .filter(community=self.community, tracking_number__in=numbers)
        )
        parcels = {}
        for parcel in found:
            parcel.community = self.community
            if parcel.carrier_id in by_id:  # the notification names the carrier
                parcel.carrier = by_id[parcel.carrier_id]
            parcels[parcel.tracking_number] = parcel
        return parcels

    def _probe_codes(self, count: int) -> None:
        """Ask once whether the codes the next ``count`` intakes would get are free (they nearly
        always are); :meth:`CodeBook.take` asks again only past a held one."""
        if not self.shelves:
            return
        seq, guesses = self.point.code_seq, []
        for _i in range(count):
            slot = self.shelves[seq % len(self.shelves)]
            seq = following_seq(seq)
            guesses.append(pickup_code(self.point, slot, seq))
        self.codes.probe(guesses)

    def _carrier(self, code: str) -> Carrier:
        if code not in self.carriers:
            self.carriers[code] = _carrier(code)
        return self.carriers[code]

    # --- deciding ---

    def _decidable(self, parcel: Parcel | None) -> bool:
        """Whether the scan can be decided in memory: a shelf or counter point, and a new,
        pre-advised or returned parcel, or one already here (a re-scan)."""
        if not self.shelves:
            return False
        if parcel is None or parcel.state in (S.ANNOUNCED, S.RETURNED):
            return True
        return parcel.state == S.AT_POINT and parcel.point_id == self.point.pk

    def _remaining(self) -> int:
        return max(self.point.daily_capacity - self.day.intakes, 0)

    def _take(
        self,
        scan: Scan,
        number: tuple[str, str],
        parcel: Parcel | None,
        typed: RecipientInfo | ParcelError,
    ) -> IntakeResult | ParcelError:
        """:func:`_intake`'s rules, in its order, against the counters in memory."""
        point, day = self.point, self.day
        if parcel is not None and parcel.state == S.AT_POINT:
            return IntakeResult(parcel, duplicate=True, remaining_capacity=self._remaining())
        if isinstance(typed, ParcelError):
            return typed
        if typed.empty and not _recipient_known(parcel):
            return _recipient_needed()
        reason = scan.override_reason.strip()
        over = day.intakes >= point.daily_capacity
        if over and not reason:
            return _capacity_exceeded(point, day)
        slot = next_shelf(point, self.shelves)
        try:
            code = self.codes.take(slot)
        except ParcelError as exc:
            return exc
        created = parcel is None
        if parcel is None:
            parcel = Parcel(
                community=self.community,
                tracking_number=number[0],
                carrier=self._carrier(number[1]),
            )
        warnings = _intake_warnings(parcel, point)
        _arrive(parcel, point, typed, scan.size, slot, code, self.now, self.courier)
        parcel.event_count += 1
        day.intakes += 1
        day.overrides += 1 if over else 0
        point.on_hand += 1
        self.pending.append(_Arrival(parcel, created, _intake_data(over, reason, warnings)))
        return IntakeResult(
            parcel, created=created, warnings=warnings, remaining_capacity=self._remaining()
        )

    def _one_by_one(self, scan: Scan) -> IntakeResult | ParcelError:
        """An uncommon scan: through intake()'s own path, after what came before it is written."""
        self._flush()
        outcome = _intake_in_savepoint(self.point, scan, self.actor, self.method, self.courier)
        if isinstance(outcome, IntakeResult) and not outcome.duplicate:
            # It wrote the point's counts and code sequence, the day and a held code itself.
            self.point.refresh_from_db(fields=["on_hand", "code_seq"])
            self.day = self._read_day()
            self.codes = CodeBook(self.point)
        return outcome

    # --- writing ---

    def _flush(self) -> None:
        """Write the buffered intakes: parcels, events, the day, the point, the notifications."""
        if not self.pending:
            return
        arrivals, self.pending = self.pending, []
        # Inserted in number order: two batches racing over the same numbers then wait on each
        # other in one order (the second fails and is redone scan by scan), never deadlock.
        fresh = sorted((a.parcel for a in arrivals if a.created), key=lambda p: p.tracking_number)
        Parcel.objects.bulk_create(fresh)
        known = [a.parcel for a in arrivals if not a.created]
        if known:
            stamp = timezone.now()  # what save()'s auto_now would set; bulk_update does not
            for parcel in known:
                parcel.updated_at = stamp
            Parcel.objects.bulk_update(known, _INTAKE_FIELDS)
        events = CustodyEvent.objects.bulk_create([self._event(a) for a in arrivals])
        for event in events:
            # bulk_create sends no post_save; the custody log and the stocktake cases hang on it.
            post_save.send(
                CustodyEvent,
                instance=event,
                created=True,
                update_fields=None,
                raw=False,
                using=event._state.db,
            )
        if self.day.pk is None:
            self.day.save(force_insert=True)
        else:
            self.day.save(update_fields=["intakes", "overrides"])
        self.point.save(update_fields=["on_hand", "code_seq"])
        outbox.parcels_arrived([(a.parcel, e) for a, e in zip(arrivals, events, strict=True)])

    def _event(self, arrival: _Arrival) -> CustodyEvent:
        return _event_of(
            arrival.parcel,
            EventKind.INTAKE,
            self.actor,
            self.method,
            self.now,
            courier=self.courier,
            data=arrival.data,
        )


def _scanned_number(scan: Scan) -> tuple[str, str] | ParcelError:
    try:
        return _tracking(scan.tracking_number)
    except ParcelError as exc:
        return exc


def _remaining(point: CollectionPoint, now: dt.datetime) -> int:
    day = PointDay.objects.filter(point=point, date=local_date(point.community, now)).first()
    return max(point.daily_capacity - (day.intakes if day else 0), 0)


def remaining_capacity(point: CollectionPoint) -> int:
    """How many more parcels ``point`` takes in today before a reason is needed."""
    return _remaining(point, clock.now())


def _found_at(
    parcel: Parcel,
    point: CollectionPoint,
    actor: Actor,
    method: str,
    now: dt.datetime,
    slot: Slot | None,
) -> IntakeResult:
    """A missing parcel turns up: back on hand here, keeping its code if it is the same point."""
    if parcel.point_id != point.pk or slot is not None:
        chosen = choose_slot(point, parcel.size, slot)
        parcel.point, parcel.slot = point, chosen
        parcel.pickup_code = next_pickup_code(point, chosen)
    parcel.state = S.AT_POINT
    if parcel.intake_at is not None:
        parcel.next_reminder_at = next_step_at(point.community, parcel.intake_at, now)
    event = _record(parcel, EventKind.FOUND, actor, method, now)
    point.on_hand += 1
    point.save(update_fields=["on_hand", "code_seq"])
    outbox.parcel_arrived(parcel, event)
    return IntakeResult(parcel, found=True, remaining_capacity=_remaining(point, now))


# --- leaving the point ---------------------------------------------------------------------


@transaction.atomic
def hand_over(
    point: CollectionPoint,
    parcels: Sequence[Parcel],
    *,
    actor: Actor,
    method: str = Method.CODE,
    proxy: PickupProxy | None = None,
) -> list[Parcel]:
    """Hand parcels at ``point`` to their resident (or an authorised proxy) in one confirmation.

    All or nothing: if any parcel is not at this point, or the proxy may not collect it, nothing
    is handed over.
    """
    if not parcels:
        raise InvalidInput(_("Choose at least one parcel to hand over."), code="nothing_chosen")
    point = _lock_point(point)
    now = clock.now()
    locked = list(
        Parcel.objects.select_for_update(of=("self",))
        .select_related("recipient", "community")
        .filter(pk__in=[p.pk for p in parcels])
        .order_by("pk")
    )
    if len(locked) != len({p.pk for p in parcels}):
        raise NotFound(_("A parcel you chose no longer exists."))
    for parcel in locked:
        if parcel.point_id != point.pk or parcel.state != S.AT_POINT:
            raise InvalidTransition(
                _(
                    "Parcel %(number)s is not waiting at %(point)s (it is %(state)s); "
                    "nothing was handed over."
                )
                % {
                    "number": parcel.tracking_number,
                    "point": point.name,
                    "state": _state_label(parcel.state),
                },
                code="not_at_point",
            )
        if proxy is not None:
            _check_proxy(proxy, parcel, now)
    for parcel in locked:
        holder = _holder(parcel, proxy)
        data: dict[str, Any] = {}
        if proxy is not None:
            data = {"proxy_id": proxy.pk, "proxy_phone": mask_phone(proxy.phone)}
        parcel.state = S.PICKED_UP
        parcel.slot = None
        parcel.pickup_code = ""
        parcel.collected_by = holder
        parcel.closed_at = now
        parcel.next_reminder_at = None
        event = _record(
            parcel,
            EventKind.HAND_OVER,
            actor,
            method,
            now,
            slot_id=None,
            holder=holder,
            data=data,
        )
        outbox.parcel_collected(parcel, event)
    _on_hand(point.pk, -len(locked))
    return locked


def _holder(parcel: Parcel, proxy: PickupProxy | None) -> str:
    if proxy is not None:
        who = proxy.name or mask_phone(proxy.phone)
        return _("proxy %(who)s") % {"who": who}
    return parcel.recipient_name or mask_phone(parcel.recipient_phone) or _("recipient")


def _check_proxy(proxy: PickupProxy, parcel: Parcel, now: dt.datetime) -> None:
    ok = (
        proxy.is_active(now)
        and proxy.community_id == parcel.community_id
        and parcel.recipient_id == proxy.resident_id
        and (proxy.parcel_id is None or proxy.parcel_id == parcel.pk)
    )
    if not ok:
        raise InvalidTransition(
            _(
                "This proxy may not collect parcel %(number)s (expired, revoked or not theirs); "
                "nothing was handed over."
            )
            % {"number": parcel.tracking_number},
            code="proxy_invalid",
        )


@transaction.atomic
def return_to_courier(
    parcel: Parcel,
    *,
    courier: Courier,
    actor: Actor,
    method: str = Method.SCAN,
    reason: str = "",
) -> Parcel:
    """A courier collects a dead or refused parcel from its point."""
    parcel = _lock_points_then_parcel(parcel)
    _require(parcel, EventKind.RETURN)
    if parcel.carrier.code != UNKNOWN and parcel.carrier_id != courier.carrier_id:
        raise InvalidInput(
            _("Parcel %(number)s is a %(carrier)s parcel; %(courier)s cannot take it back.")
            % {"number": parcel.tracking_number, "carrier": parcel.carrier, "courier": courier},
            code="wrong_carrier",
        )
    assert parcel.point_id is not None
    now = clock.now()
    point_id = parcel.point_id
    parcel.state = S.RETURNED
    parcel.slot = None
    parcel.pickup_code = ""
    parcel.returned_to = courier
    parcel.closed_at = now
    parcel.next_reminder_at = None
    event = _record(
        parcel,
        EventKind.RETURN,
        actor,
        method,
        now,
        slot_id=None,
        courier=courier,
        holder=str(courier)[:100],
        data={"reason": reason.strip()[:200]} if reason.strip() else {},
    )
    _on_hand(point_id, -1)
    outbox.parcel_returned(parcel, event)
    return parcel


@transaction.atomic
def move(
    parcel: Parcel,
    *,
    to_point: CollectionPoint,
    actor: Actor,
    to_slot: Slot | None = None,
    method: str = Method.TYPED,
    reason: str = "",
) -> Parcel:
    """Move a parcel to another slot or point. Its pickup code changes, and the resident is told."""
    parcel = _lock_points_then_parcel(parcel, to_point)
    _require(parcel, EventKind.MOVE)
    if to_point.community_id != parcel.community_id:
        raise NotFound(_("No such point in this community."))
    from_id = parcel.point_id
    assert from_id is not None
    target = CollectionPoint.objects.get(pk=to_point.pk)  # locked above
    if not target.active:
        raise InvalidInput(
            _("%(point)s is closed.") % {"point": target.name}, code="point_inactive"
        )
    if to_slot is not None and to_slot.pk == parcel.slot_id:
        raise InvalidInput(_("The parcel is already in that slot."), code="same_slot")
    chosen = choose_slot(target, parcel.size, to_slot)
    now = clock.now()
    parcel.point, parcel.slot = target, chosen
    parcel.pickup_code = next_pickup_code(target, chosen)
    data = {"from_point": from_id, "reason": reason.strip()[:200]}
    event = _record(parcel, EventKind.MOVE, actor, method, now, data=data)
    target.save(update_fields=["code_seq"])
    if from_id != target.pk:
        _on_hand(from_id, -1)
        _on_hand(target.pk, +1)
    outbox.parcel_moved(parcel, event)
    return parcel


@transaction.atomic
def mark_missing(
    parcel: Parcel, *, actor: Actor, note: str = "", method: str = Method.TYPED
) -> Parcel:
    """The parcel is not where the record says. It keeps its point, slot and code as last seen."""
    parcel = _lock_points_then_parcel(parcel)
    _require(parcel, EventKind.MISSING)
    now = clock.now()
    parcel.state = S.MISSING
    parcel.next_reminder_at = None
    _record(parcel, EventKind.MISSING, actor, method, now, data={"note": note.strip()[:500]})
    assert parcel.point_id is not None
    _on_hand(parcel.point_id, -1)
    return parcel


@transaction.atomic
def mark_found(
    parcel: Parcel,
    *,
    point: CollectionPoint,
    actor: Actor,
    slot: Slot | None = None,
    method: str = Method.TYPED,
) -> Parcel:
    """A missing parcel is back on hand at ``point``."""
    parcel = _lock_points_then_parcel(parcel, point)
    _require(parcel, EventKind.FOUND)
    if point.community_id != parcel.community_id:
        raise NotFound(_("No such point in this community."))
    point = _lock_point(point)  # already locked: this re-reads it and checks it is open
    return _found_at(parcel, point, actor, method, clock.now(), slot).parcel


@transaction.atomic
def assign_recipient(
    parcel: Parcel,
    resident: Resident,
    *,
    actor: Actor,
    method: str = Method.TYPED,
) -> Parcel:
    """Match a parcel taken in without a known resident, and tell the resident it is here."""
    parcel = _lock_parcel(parcel)
    _require(parcel, EventKind.RECIPIENT)
    if resident.community_id != parcel.community_id:
        raise NotFound(_("No such resident in this community."))
    if parcel.recipient_id == resident.pk:
        return parcel
    _apply_recipient(parcel, RecipientInfo(resident=resident))
    event = _record(
        parcel, EventKind.RECIPIENT, actor, method, clock.now(), data={"resident_id": resident.pk}
    )
    if parcel.state == S.AT_POINT:
        outbox.parcel_arrived(parcel, event)
    return parcel
