"""Intake of a station's scan stream: the same rules as one scan, decided set-based."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from jianjian import clock
from jianjian import hotsql as sql
from jianjian.communities.models import Resident
from jianjian.couriers.models import Carrier, Courier
from jianjian.parcels.errors import ParcelError
from jianjian.parcels.lifecycle import hooks
from jianjian.parcels.lifecycle.intake import intake_in_savepoint
from jianjian.parcels.lifecycle.kernel import (
    Actor,
    carrier,
    event_of,
    local_date,
    lock_point,
    read_closures,
    save_counts,
)
from jianjian.parcels.lifecycle.rules import (
    INTAKE_FIELDS,
    Scanned,
    arrive,
    capacity_exceeded,
    carrier_ambiguous,
    intake_data,
    intake_warnings,
    is_open,
    recipient_known,
    recipient_needed,
    reminder_after_intake,
    room_after,
    scanned_number,
)
from jianjian.parcels.lifecycle.scan import IntakeResult, Scan
from jianjian.parcels.matching import RecipientInfo, match_recipients
from jianjian.parcels.models import CustodyEvent, EventKind, Method, Parcel, ParcelState
from jianjian.parcels.placement import (
    CodeBook,
    active_slots,
    following_seq,
    next_shelf,
    pickup_code,
)
from jianjian.points.models import CollectionPoint, PointDay, PointKind

S = ParcelState


def _locked_parcels(community_id: int, numbers: list[str]) -> list[Parcel]:
    """The community's parcels with these numbers, their rows locked, each with its recipient
    (``select_for_update(of=("self",)).select_related("recipient")``, built once: a batch's new
    numbers, the common case, find nothing)."""
    q = sql.quote
    where, params = sql.any_of(f"p.{q('tracking_number')}", numbers)
    lock = " FOR UPDATE OF p" if connection.features.has_select_for_update_of else ""
    text = sql.built(
        ("locked parcels", where),
        lambda: (
            f"SELECT {sql.column_list(Parcel, 'p')}, {sql.column_list(Resident, 'r')} "
            f"FROM {sql.table(Parcel)} p LEFT JOIN {sql.table(Resident)} r "
            f"ON r.{q('id')} = p.{q('recipient_id')} "
            f"WHERE p.{q('community_id')} = %s AND {where}{lock}"
        ),
    )
    with connection.cursor() as cursor:
        cursor.execute(text, [community_id, *params])
        rows = cursor.fetchall()
    width = len(Parcel._meta.concrete_fields)
    found = []
    for row in rows:
        parcel = sql.instance(Parcel, row[:width])
        if parcel.recipient_id is not None:
            parcel.recipient = sql.instance(Resident, row[width:])
        else:
            parcel.recipient = None
        found.append(parcel)
    return found


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

    The batch is one transaction holding the point's lock once (no savepoint of its own when it
    is the outermost). The common scans (a new or pre-advised parcel at a shelf or counter) are
    decided in memory and written together (:class:`_BatchIntake`); any other scan goes through
    :func:`intake`'s own path in a savepoint, so a refused scan writes nothing and does not undo
    the others. If a concurrent writer inserts one of the numbers meanwhile, the batch is redone
    scan by scan, which settles each race as :func:`intake` does.
    """
    try:
        # Its own transaction (a savepoint inside a caller's): undone whole on a conflict.
        with transaction.atomic():
            return _BatchIntake(lock_point(point), actor, method, courier).run(scans)
    except IntegrityError:
        pass  # a concurrent writer took one of the numbers; the scans go one by one
    with transaction.atomic():
        lock_point(point)
        return [intake_in_savepoint(point, scan, actor, method, courier) for scan in scans]


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
        self.carriers: dict[str, Carrier] = {}  # from the per-process cache, as scans name them
        self.day = self._read_day()
        self.codes = CodeBook(point)
        read_closures(point)
        # Every scan of the batch is at this point at this moment: its hours and the new
        # parcels' reminder clock are worked out once.
        self.open_now = is_open(point, self.now)
        self.reminder_at = reminder_after_intake(point, self.now)
        self.pending: list[_Arrival] = []

    def run(self, scans: Sequence[Scan]) -> list[IntakeResult | ParcelError]:
        numbers = [scanned_number(scan) for scan in scans]
        parcels = self._read_parcels([n.number for n in numbers if isinstance(n, Scanned)])
        recipients = match_recipients(self.community, [s.typed for s in scans])
        self._probe_codes(len(scans))
        outcomes: list[IntakeResult | ParcelError] = []
        seen: set[str] = set()
        for scan, number, recipient in zip(scans, numbers, recipients, strict=True):
            if isinstance(number, ParcelError):
                outcomes.append(number)
                continue
            parcel = parcels.get(number.number)
            if number.number in seen or not self._decidable(parcel):
                outcomes.append(self._one_by_one(scan))
            else:
                outcomes.append(self._take(scan, number, parcel, recipient))
            seen.add(number.number)
        self._flush()
        return outcomes

    # --- reading ---

    def _read_day(self) -> PointDay:
        """Today's row, locked; an unsaved one when nothing was taken in today (it is written
        with the first intake, as get_or_create would)."""
        date = local_date(self.community, self.now)
        lock = "FOR UPDATE" if connection.features.has_select_for_update else ""
        found = sql.fetch(
            PointDay,
            sql.select_sql(
                PointDay, "community_id = %s AND point_id = %s AND date = %s", f"LIMIT 1 {lock}"
            ),
            [self.community.pk, self.point.pk, connection.ops.adapt_datefield_value(date)],
        )
        return (
            found[0] if found else PointDay(community=self.community, point=self.point, date=date)
        )

    def _read_parcels(self, numbers: list[str]) -> dict[str, Parcel]:
        if not numbers:
            return {}
        by_id = {c.pk: c for c in self.carriers.values()}
        parcels = {}
        for parcel in _locked_parcels(self.community.pk, sorted(set(numbers))):
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
            self.carriers[code] = carrier(code)
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
        return room_after(
            self.point, self.now, max(self.point.daily_capacity - self.day.intakes, 0)
        )

    def _take(
        self,
        scan: Scan,
        number: Scanned,
        parcel: Parcel | None,
        typed: RecipientInfo | ParcelError,
    ) -> IntakeResult | ParcelError:
        """:func:`_intake`'s rules, in its order, against the counters in memory."""
        point, day = self.point, self.day
        if parcel is not None and parcel.state == S.AT_POINT:
            return IntakeResult(parcel, duplicate=True, remaining_capacity=self._remaining())
        if parcel is None and number.undecided:
            return carrier_ambiguous(number)
        if isinstance(typed, ParcelError):
            return typed
        if typed.empty and not recipient_known(parcel):
            return recipient_needed()
        reason = scan.override_reason.strip()
        over = day.intakes >= point.daily_capacity
        if over and not reason:
            return capacity_exceeded(point, day.intakes)
        slot = next_shelf(point, self.shelves)
        try:
            code = self.codes.take(slot)
        except ParcelError as exc:
            return exc
        created = parcel is None
        if parcel is None:
            parcel = sql.new(
                Parcel,
                community=self.community,
                tracking_number=number.number,
                carrier=self._carrier(number.carrier),
            )
        warnings = intake_warnings(parcel, point, self.now, self.open_now)
        arrive(
            parcel, point, typed, scan.size, slot, code, self.now, self.courier, self.reminder_at
        )
        parcel.event_count += 1
        day.intakes += 1
        day.overrides += 1 if over else 0
        point.on_hand += 1
        self.pending.append(_Arrival(parcel, created, intake_data(over, reason, warnings)))
        return IntakeResult(
            parcel, created=created, warnings=warnings, remaining_capacity=self._remaining()
        )

    def _one_by_one(self, scan: Scan) -> IntakeResult | ParcelError:
        """An uncommon scan: through intake()'s own path, after what came before it is written."""
        self._flush()
        outcome = intake_in_savepoint(self.point, scan, self.actor, self.method, self.courier)
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
        sql.insert_many(fresh)
        known = [a.parcel for a in arrivals if not a.created]
        if known:
            stamp = timezone.now()  # what save()'s auto_now would set; bulk_update does not
            for parcel in known:
                parcel.updated_at = stamp
            Parcel.objects.bulk_update(known, INTAKE_FIELDS)
        events = [self._event(a) for a in arrivals]
        sql.insert_many(events)
        if self.day.pk is None:
            self.day.save(force_insert=True)
        else:
            PointDay.objects.filter(community_id=self.day.community_id, pk=self.day.pk).update(
                intakes=self.day.intakes, overrides=self.day.overrides
            )
        save_counts(self.point)
        hooks.recorded([(a.parcel, e) for a, e in zip(arrivals, events, strict=True)])

    def _event(self, arrival: _Arrival) -> CustodyEvent:
        return event_of(
            arrival.parcel,
            EventKind.INTAKE,
            self.actor,
            self.method,
            self.now,
            courier=self.courier,
            data=arrival.data,
        )
