"""The rules a scan meets at intake, shared by the single scan and the batch.

Both paths decide in the same order: the number read (:func:`scanned_number`), a re-scan of a
parcel already here, whose parcel it is (:func:`recipient_known` / :func:`recipient_needed`), the
day's capacity (:func:`capacity_exceeded`), then :func:`arrive` sets what an intake changes. The
Hypothesis test in ``tests/parcels/test_intake_batch.py`` feeds random scan sequences to both
paths on twin worlds and compares everything stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.db import connection
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from jianjian import clock
from jianjian.couriers.models import Carrier, Courier
from jianjian.couriers.recognition import CARRIERS
from jianjian.notify.schedule import first_step_at
from jianjian.parcels.errors import (
    CapacityExceeded,
    CarrierAmbiguous,
    InvalidInput,
    ParcelError,
    RecipientNeeded,
)
from jianjian.parcels.lifecycle.kernel import apply_recipient, local_date, recognition
from jianjian.parcels.lifecycle.scan import Scan
from jianjian.parcels.matching import RecipientInfo
from jianjian.parcels.models import Parcel, ParcelState
from jianjian.parcels.policy import dead_at
from jianjian.points.models import CollectionPoint, PointDay, PointKind, Slot
from jianjian.points.room import room_today

S = ParcelState


def recipient_known(parcel: Parcel | None) -> bool:
    return parcel is not None and bool(parcel.recipient_id or parcel.recipient_phone)


def recipient_needed() -> RecipientNeeded:
    return RecipientNeeded(
        _("Whose parcel is this? Type the phone's last 4 digits and the flat, or the full phone.")
    )


def capacity_exceeded(point: CollectionPoint, intakes: int) -> CapacityExceeded:
    return CapacityExceeded(
        _(
            "%(point)s has taken in %(count)s of %(capacity)s parcels today: it is full. "
            "Give a reason to take this one in anyway."
        )
        % {"point": point.name, "count": intakes, "capacity": point.daily_capacity},
        capacity=point.daily_capacity,
        intakes=intakes,
    )


def intake_warnings(
    parcel: Parcel, point: CollectionPoint, now: dt.datetime, open_now: bool | None = None
) -> list[str]:
    """What the clerk is told and the intake event keeps: a parcel planned for another point,
    a parcel taken in while the point is closed (allowed: a courier may drop it at the door).
    ``open_now``: :func:`is_open` of the point at ``now`` when the caller has it already."""
    warnings = []
    if parcel.planned_point_id and parcel.planned_point_id != point.pk:
        warnings.append("wrong_point")
    if not (is_open(point, now) if open_now is None else open_now):
        warnings.append("outside_hours")
    return warnings


def is_open(point: CollectionPoint, now: dt.datetime) -> bool:
    return point.is_open_at(now.astimezone(ZoneInfo(point.community.time_zone)))


def reminder_after_intake(point: CollectionPoint, now: dt.datetime) -> dt.datetime | None:
    """When a parcel taken in at ``point`` at ``now`` is first reminded of (its clock starts)."""
    return first_step_at(point.community, now, dead_at(point, now))


def intake_data(over: bool, reason: str, warnings: list[str]) -> dict[str, Any]:
    """What the intake event keeps beyond the place: the override's reason, the warnings."""
    data: dict[str, Any] = {}
    if over:
        data["override_reason"] = reason[:500]
    if warnings:
        data["warnings"] = warnings
    return data


UNSET = object()  # arrive(): no reminder time given, work it out


def arrive(
    parcel: Parcel,
    point: CollectionPoint,
    typed: RecipientInfo,
    size: str,
    slot: Slot,
    code: str,
    now: dt.datetime,
    courier: Courier | None,
    reminder_at: object = UNSET,
) -> None:
    """Set on ``parcel`` what an intake changes: the recipient typed, the size, its place and
    code, and the reminder clock (a parcel taken in again after a return starts afresh).
    ``reminder_at``: :func:`reminder_after_intake` when the caller has it already (a batch: the
    same point and moment for every scan)."""
    if not typed.empty:
        apply_recipient(parcel, typed)
    if size:
        parcel.size = size
    parcel.state = S.AT_POINT
    parcel.point = point
    parcel.slot = slot
    parcel.pickup_code = code
    parcel.intake_at = now
    parcel.next_reminder_at = (
        reminder_after_intake(point, now)
        if reminder_at is UNSET
        else cast("dt.datetime | None", reminder_at)
    )
    parcel.closed_at = None
    parcel.returned_to = None
    parcel.collected_by = ""
    if courier is not None:
        parcel.delivering_courier = courier


# The parcel fields an intake of a known (pre-advised or returned) parcel changes: arrive's
# fields, the event count and the update stamp that save() would set.
INTAKE_FIELDS = [
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


@dataclass(frozen=True)
class Scanned:
    """A scan's number as read: normalised, with the carrier a new parcel gets."""

    number: str
    carrier: str
    # The carriers the number fits when it fits several and the clerk picked none: a new parcel
    # cannot be taken in until one is picked (a pre-advised one keeps its carrier).
    undecided: tuple[str, ...] = ()


def scanned_number(scan: Scan) -> Scanned | ParcelError:
    try:
        rec = recognition(scan.tracking_number)
    except ParcelError as exc:
        return exc
    picked = scan.carrier.strip().lower()
    if not picked:
        return Scanned(rec.number, rec.carrier, rec.candidates if rec.ambiguous else ())
    if rec.candidates and picked not in rec.candidates:
        return InvalidInput(
            _("%(number)s is not a %(carrier)s tracking number.")
            % {"number": rec.number, "carrier": carrier_label(picked)},
            code="carrier_mismatch",
            candidates=list(rec.candidates),
        )
    if picked not in KNOWN_CARRIERS and not Carrier.objects.filter(code=picked).exists():
        return InvalidInput(
            _("There is no carrier with the code “%(carrier)s”.") % {"carrier": picked[:20]},
            code="carrier_unknown",
        )
    return Scanned(rec.number, picked)


KNOWN_CARRIERS = {code: (name, name_en) for code, name, name_en in CARRIERS}


def carrier_label(code: str) -> str:
    """A carrier's name in the active language (its code if it is not one the product knows)."""
    name, name_en = KNOWN_CARRIERS.get(code, (code, code))
    return name if (get_language() or "").startswith("zh") else name_en


def carrier_ambiguous(scanned: Scanned) -> CarrierAmbiguous:
    return CarrierAmbiguous(
        _("%(number)s fits several carriers (%(carriers)s): pick the carrier on the label.")
        % {
            "number": scanned.number,
            # Chinese lists names with the enumeration comma (中通、申通), English with ", ".
            "carriers": pgettext("list separator", ", ").join(
                carrier_label(c) for c in scanned.undecided
            ),
        },
        candidates=list(scanned.undecided),
    )


def remaining_at(point: CollectionPoint, now: dt.datetime) -> int:
    day = PointDay.objects.filter(
        community_id=point.community_id, point=point, date=local_date(point.community, now)
    ).first()
    return room_after(point, now, max(point.daily_capacity - (day.intakes if day else 0), 0))


def room_after(point: CollectionPoint, now: dt.datetime, capacity_left: int) -> int:
    """The room an answer reports: the capacity left, and for a locker no more than its free
    compartments (points/room.py); the refusal past capacity stays on capacity alone."""
    if point.kind != PointKind.LOCKER:
        return capacity_left
    return min(capacity_left, room_today(point, at=now))


def remaining_capacity(point: CollectionPoint) -> int:
    """How many more parcels ``point`` takes in today before a reason is needed."""
    return remaining_at(point, clock.now())


def count_intake(point: CollectionPoint, now: dt.datetime) -> tuple[int, bool]:
    """Count one more intake in ``point``'s row of today, in one round trip: an upsert that
    creates the row or adds one (and one override past capacity) and returns the new count, with
    the row locked until the transaction ends. Returns (intakes before this one, over capacity).

    The caller refuses the scan past capacity without a reason by raising, which rolls the count
    back with the rest of its (sub)transaction.
    """
    table = connection.ops.quote_name(PointDay._meta.db_table)
    capacity = point.daily_capacity
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (community_id, point_id, date, intakes, overrides) "
            "VALUES (%s, %s, %s, 1, %s) "
            "ON CONFLICT (point_id, date) DO UPDATE SET "
            f"intakes = {table}.intakes + 1, "
            f"overrides = {table}.overrides + CASE WHEN {table}.intakes >= %s THEN 1 ELSE 0 END "
            "RETURNING intakes",
            [
                point.community_id,
                point.pk,
                local_date(point.community, now),
                1 if capacity <= 0 else 0,
                capacity,
            ],
        )
        (after,) = cursor.fetchone()
    before = after - 1
    return before, before >= capacity
