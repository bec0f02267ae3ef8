"""Intake of one scan: a parcel arrives at a point (new, pre-advised, returned, or found)."""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from jianjian import clock
from jianjian import hotsql as sql
from jianjian.couriers.models import Courier
from jianjian.parcels.errors import InvalidInput, InvalidTransition, ParcelError
from jianjian.parcels.lifecycle.kernel import (
    Actor,
    carrier,
    lock_point_for_scan,
    read_closures,
    record,
    require,
)
from jianjian.parcels.lifecycle.missing import found_at
from jianjian.parcels.lifecycle.rules import (
    Scanned,
    arrive,
    capacity_exceeded,
    carrier_ambiguous,
    count_intake,
    intake_data,
    intake_warnings,
    recipient_known,
    recipient_needed,
    remaining_at,
    room_after,
    scanned_number,
)
from jianjian.parcels.lifecycle.scan import IntakeResult, Scan
from jianjian.parcels.matching import match_recipient
from jianjian.parcels.models import EventKind, Method, Parcel, ParcelState
from jianjian.parcels.placement import choose_slot, next_pickup_code
from jianjian.points.models import CollectionPoint, PointKind, Slot

S = ParcelState


def intake(
    point: CollectionPoint,
    scan: Scan | str,
    *,
    actor: Actor,
    method: str = Method.SCAN,
    slot: Slot | None = None,
    courier: Courier | None = None,
    **fields: str,
) -> IntakeResult:
    """Take a parcel in at ``point``.

    Idempotent: scanning a number that is already at this point returns it unchanged. Scanning a
    parcel recorded missing finds it here. Refused past the day's capacity unless the scan's
    ``override_reason`` says why. ``slot`` is the clerk's choice of slot, if any.

    The door (API, counter, CLI) passes a :class:`Scan`; a bare number with the scan's fields as
    keywords is shorthand for ``Scan(number, **fields)`` (tests, the demo, benchmarks).
    """
    if isinstance(scan, str):
        scan = Scan(scan, **fields)
    elif fields:
        raise TypeError("pass the scan's fields in the Scan, not beside it")
    outcome = intake_in_savepoint(point, scan, actor, method, courier, slot)
    if isinstance(outcome, ParcelError):
        raise outcome
    return outcome


def intake_in_savepoint(
    point: CollectionPoint,
    scan: Scan,
    actor: Actor,
    method: str,
    courier: Courier | None,
    slot: Slot | None = None,
) -> IntakeResult | ParcelError:
    """One intake in its own (sub)transaction; domain errors are returned, not raised."""
    scanned = scanned_number(scan)
    if isinstance(scanned, ParcelError):
        return scanned
    for attempt in range(3):
        try:
            with transaction.atomic():
                # The first attempt takes the code sequence's next code without a read of the
                # codes held: it is nearly always free, and the unique index on live codes
                # refuses it when it is not. A later attempt asks which codes are held.
                return _intake(
                    point, scanned, scan, actor, method, courier, slot, trusting=attempt == 0
                )
        except ParcelError as exc:
            return exc
        except IntegrityError:
            # The code came round while its last parcel is still here, or two scans of one new
            # number at two points raced and the other insert won. Run again: now the codes
            # held are read, and an existing parcel is answered by the ordinary rules.
            continue
    return ParcelError(_("The parcel could not be saved; scan it again."), code="conflict")


def _locked_parcel(community_id: int, number: str) -> Parcel | None:
    """The parcel with this number in the community, its row locked; None for a new number."""
    lock = "FOR UPDATE" if connection.features.has_select_for_update else ""
    found = sql.fetch(
        Parcel,
        sql.select_sql(Parcel, "community_id = %s AND tracking_number = %s", lock),
        [community_id, number],
    )
    return found[0] if found else None


def _intake(
    point: CollectionPoint,
    scanned: Scanned,
    scan: Scan,
    actor: Actor,
    method: str,
    courier: Courier | None,
    slot: Slot | None,
    *,
    trusting: bool = False,
) -> IntakeResult:
    number = scanned.number
    point, known = lock_point_for_scan(point, number)
    community = point.community
    now = clock.now()
    parcel = _locked_parcel(community.pk, number) if known else None
    if parcel is not None:
        if parcel.state == S.AT_POINT and parcel.point_id == point.pk:
            return IntakeResult(parcel, duplicate=True, remaining_capacity=remaining_at(point, now))
        if parcel.state == S.AT_POINT:
            raise InvalidTransition(
                _("Parcel %(number)s is already at %(point)s (code %(code)s); move it instead.")
                % {"number": number, "point": parcel.point, "code": parcel.pickup_code},
                code="at_other_point",
            )
        if parcel.state == S.MISSING:
            found_at(parcel, point, actor, method, now, slot)
            return IntakeResult(parcel, found=True, remaining_capacity=remaining_at(point, now))
        require(parcel, EventKind.INTAKE)
    elif scanned.undecided:
        raise carrier_ambiguous(scanned)

    typed = match_recipient(
        community, phone=scan.phone, phone_last4=scan.phone_last4, flat=scan.flat, name=scan.name
    )
    if typed.empty and not recipient_known(parcel):
        raise recipient_needed()

    intakes, over = count_intake(point, now)
    reason = scan.override_reason.strip()
    if over and not reason:
        raise capacity_exceeded(point, intakes)

    created = parcel is None
    if parcel is None:
        parcel = sql.new(
            Parcel, community=community, tracking_number=number, carrier=carrier(scanned.carrier)
        )
    resident = typed.resident or parcel.recipient
    if point.kind == PointKind.LOCKER and resident is not None and not resident.locker_consent:
        raise InvalidInput(
            _("%(name)s has not agreed to lockers; take the parcel in at a counter or shelf.")
            % {"name": resident.name},
            code="locker_consent",
        )
    chosen = choose_slot(point, scan.size or parcel.size, slot)
    code = next_pickup_code(point, chosen, trusting=trusting)
    read_closures(point)
    warnings = intake_warnings(parcel, point, now)
    arrive(parcel, point, typed, scan.size, chosen, code, now, courier)
    point.on_hand += 1
    record(
        parcel,
        EventKind.INTAKE,
        actor,
        method,
        now,
        counts=point,
        courier=courier,
        data=intake_data(over, reason, warnings),
    )
    return IntakeResult(
        parcel,
        created=created,
        warnings=warnings,
        remaining_capacity=room_after(point, now, max(point.daily_capacity - intakes - 1, 0)),
    )
