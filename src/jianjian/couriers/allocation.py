"""Allocation: which collection point each announced parcel should be dropped at today.

The rule (issue 5): the resident's preferred point if it has capacity today, else the nearest
point with capacity left (the community's building↔point distance table), respecting locker
consent and compartment sizes. A parcel that fits nowhere is *overflow*, with its reasons — it is
never dropped from the plan.

:func:`plan` is a pure function of plain values, so it is deterministic and tested without a
database. :func:`reallocate` reads the community's state, calls :func:`plan` and writes the result
(``Parcel.planned_point`` and the ``Overflow`` rows): only what changed, in a few set-based
statements (one ``= ANY(array)`` per target point and COPY on PostgreSQL; see :mod:`jianjian.bulk`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db import transaction

from jianjian import bulk, clock
from jianjian.communities.models import Community
from jianjian.couriers.models import Overflow, PointDistance
from jianjian.parcels.models import Parcel, ParcelState
from jianjian.points.models import SIZE_ORDER, CollectionPoint
from jianjian.points.room import rooms

# Stable reason codes for overflow (the API and the pages show them).
NO_CAPACITY = "no_capacity"
LOCKER_CONSENT = "locker_consent"
COMPARTMENT_SIZE = "compartment_size"
POINT_CLOSED = "point_closed"
NO_POINTS = "no_points"


@dataclass(frozen=True)
class PointInfo:
    id: int
    remaining: int  # daily capacity minus today's intakes
    is_locker: bool = False
    open_today: bool = True  # false once today's closing time has passed, or inactive
    # Free locker compartments by size ("S"/"M"/"L" → count); ignored for counters and shelves.
    compartments: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ParcelInfo:
    id: int
    size: str = "M"
    preferred_point: int | None = None
    building: int | None = None
    locker_consent: bool = True


@dataclass
class Plan:
    assigned: dict[int, int] = field(default_factory=dict)  # parcel id → point id
    overflow: dict[int, tuple[str, ...]] = field(default_factory=dict)  # parcel id → reasons

    def counts(self) -> dict[int, int]:
        """Parcels planned per point."""
        out: dict[int, int] = {}
        for point_id in self.assigned.values():
            out[point_id] = out.get(point_id, 0) + 1
        return out


def candidates(
    parcel: ParcelInfo,
    points: Sequence[PointInfo],
    distances: Mapping[int, Mapping[int, int]],
    point_buildings: Mapping[int, int | None],
) -> list[int]:
    """Point ids in the order they are tried: preferred first, then nearest, ties by id."""
    table = distances.get(parcel.building, {}) if parcel.building is not None else {}

    def distance(point_id: int) -> float:
        if point_id in table:
            return table[point_id]
        # No table row: a point standing at the recipient's own building is next door.
        if parcel.building is not None and point_buildings.get(point_id) == parcel.building:
            return 0
        return math.inf

    ordered = sorted((p.id for p in points), key=lambda pid: (distance(pid), pid))
    if parcel.preferred_point is not None and parcel.preferred_point in ordered:
        ordered.remove(parcel.preferred_point)
        ordered.insert(0, parcel.preferred_point)
    return ordered


def _fitting_size(compartments: Mapping[str, int], size: str) -> str | None:
    """The smallest free compartment size that holds ``size``."""
    for name in sorted(compartments, key=SIZE_ORDER.__getitem__):
        if SIZE_ORDER[name] >= SIZE_ORDER.get(size, 1) and compartments[name] > 0:
            return name
    return None


def _refusal(parcel: ParcelInfo, point: PointInfo, remaining: int, free: dict[str, int]) -> str:
    """Why ``point`` cannot take ``parcel`` now ('' if it can)."""
    if not point.open_today:
        return POINT_CLOSED
    if point.is_locker and not parcel.locker_consent:
        return LOCKER_CONSENT
    if remaining <= 0:
        return NO_CAPACITY
    if point.is_locker and _fitting_size(free, parcel.size) is None:
        big_enough = any(
            SIZE_ORDER[s] >= SIZE_ORDER.get(parcel.size, 1) for s in point.compartments
        )
        return NO_CAPACITY if big_enough else COMPARTMENT_SIZE
    return ""


def plan(
    parcels: Iterable[ParcelInfo],
    points: Sequence[PointInfo],
    distances: Mapping[int, Mapping[int, int]] | None = None,
    point_buildings: Mapping[int, int | None] | None = None,
) -> Plan:
    """Allocate ``parcels`` (in id order: first announced, first served) to ``points``."""
    distances = distances or {}
    point_buildings = point_buildings or {}
    by_id = {p.id: p for p in points}
    remaining = {p.id: p.remaining for p in points}
    free = {p.id: dict(p.compartments) for p in points if p.is_locker}
    result = Plan()
    order_cache: dict[tuple[int | None, int | None], list[int]] = {}
    for parcel in sorted(parcels, key=lambda p: p.id):
        if not points:
            result.overflow[parcel.id] = (NO_POINTS,)
            continue
        key = (parcel.preferred_point, parcel.building)
        if key not in order_cache:
            order_cache[key] = candidates(parcel, points, distances, point_buildings)
        reasons: set[str] = set()
        for point_id in order_cache[key]:
            point = by_id[point_id]
            why = _refusal(parcel, point, remaining[point_id], free.get(point_id, {}))
            if why:
                reasons.add(why)
                continue
            remaining[point_id] -= 1
            if point.is_locker:
                size = _fitting_size(free[point_id], parcel.size)
                assert size is not None
                free[point_id][size] -= 1
            result.assigned[parcel.id] = point_id
            break
        else:
            result.overflow[parcel.id] = tuple(sorted(reasons))
    return result


# --- the database side ---------------------------------------------------------------------


def _open_today(point: CollectionPoint, local_now: dt.datetime) -> bool:
    """A point still takes parcels today unless it is inactive, closed all day (its weekly day
    off or a temporary closure), or already closed for the day."""
    if not point.active:
        return False
    hours = point.hours_on(local_now.date())
    if hours is None:
        return False
    opens, closes = hours
    if closes <= opens:  # open past midnight: never "closed for today"
        return True
    return local_now.time() < closes


def point_infos(community: Community, now: dt.datetime | None = None) -> list[PointInfo]:
    """Today's capacity left at each of the community's points, as :func:`plan` reads it."""
    now = now or clock.now()
    local_now = now.astimezone(ZoneInfo(community.time_zone))
    points = list(
        CollectionPoint.objects.filter(community=community)
        .prefetch_related("closures")
        .order_by("pk")
    )
    room = rooms(points, now)  # capacity left and free compartments: the point's room today
    return [
        PointInfo(
            id=p.pk,
            remaining=room[p.pk].capacity_left,
            is_locker=room[p.pk].is_locker,
            open_today=_open_today(p, local_now),
            compartments=room[p.pk].compartments,
        )
        for p in points
    ]


def _announced(community: Community) -> tuple[list[ParcelInfo], dict[int, int | None]]:
    """What :func:`plan` needs of each announced parcel, and the point each is planned to now
    (read in the same query: the plan is only written where it changes)."""
    rows = Parcel.objects.filter(community=community, state=ParcelState.ANNOUNCED).values_list(
        "pk",
        "size",
        "recipient__preferred_point_id",
        "recipient_flat__building_id",
        "recipient__locker_consent",
        "planned_point_id",
    )
    infos: list[ParcelInfo] = []
    planned: dict[int, int | None] = {}
    for pk, size, preferred, building, consent, planned_point in rows:
        infos.append(
            ParcelInfo(
                id=pk,
                size=size,
                preferred_point=preferred,
                building=building,
                locker_consent=True if consent is None else consent,
            )
        )
        planned[pk] = planned_point
    return infos, planned


def _distances(community: Community) -> dict[int, dict[int, int]]:
    out: dict[int, dict[int, int]] = {}
    rows = PointDistance.objects.filter(community=community).values_list(
        "building_id", "point_id", "distance"
    )
    for building, point, distance in rows:
        out.setdefault(building, {})[point] = distance
    return out


def lock_points(community: Community) -> None:
    """Lock the community's points in id order (the order intake locks them in)."""
    list(
        CollectionPoint.objects.select_for_update()
        .filter(community_id=community.pk)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def reallocate(community: Community, now: dt.datetime | None = None) -> Plan:
    """Recompute the plan of every announced parcel of ``community`` and store it."""
    now = now or clock.now()
    # Lock the community's points so two recomputations (or one and an intake) queue up.
    lock_points(community)
    points = point_infos(community, now)
    buildings = dict(
        CollectionPoint.objects.filter(community=community).values_list("pk", "building_id")
    )
    parcels, current = _announced(community)
    result = plan(parcels, points, _distances(community), buildings)
    _store(community, result, current, now)
    return result


def _store(
    community: Community, result: Plan, current: Mapping[int, int | None], now: dt.datetime
) -> None:
    """Write what changed since ``current`` (parcel id → planned point): planned points that
    moved, overflow rows that appeared or changed.

    A re-allocation that reaches the same plan (the usual case: nothing arrived meanwhile)
    writes nothing, however many parcels overflow.
    """
    by_point: dict[int | None, list[int]] = {}
    for parcel_id, point_id in result.assigned.items():
        if current.get(parcel_id) != point_id:
            by_point.setdefault(point_id, []).append(parcel_id)
    for parcel_id in result.overflow:
        if current.get(parcel_id) is not None:
            by_point.setdefault(None, []).append(parcel_id)
    for target, ids in by_point.items():
        for where in bulk.in_filters("pk", ids):
            # The tenant key leads: the daily re-plan runs this from the worker's sweeps.
            Parcel.objects.filter(community_id=community.pk).filter(where).update(
                planned_point_id=target
            )
    _store_overflow(community, result.overflow, now)


def _store_overflow(
    community: Community, overflow: Mapping[int, tuple[str, ...]], now: dt.datetime
) -> None:
    """Make the community's Overflow rows match ``overflow``, touching only the rows that differ.

    A row is kept with its ``computed_at`` for as long as its parcel stays in overflow, even
    when the reasons change (a point closes, another fills up): ``computed_at`` is when the
    allocation first found the parcel fits nowhere, which the daily round reads to release
    overflow that stayed unplaced too long (``Community.overflow_release_days``).
    """
    wanted = {pid: ",".join(why) for pid, why in overflow.items()}
    stored = dict(
        Overflow.objects.filter(community_id=community.pk).values_list("parcel_id", "reasons")
    )
    gone = sorted(pid for pid in stored if pid not in wanted)
    fresh = sorted(pid for pid in wanted if pid not in stored)
    changed: dict[str, list[int]] = {}
    for pid, reasons in wanted.items():
        if pid in stored and stored[pid] != reasons:
            changed.setdefault(reasons, []).append(pid)
    for where in bulk.in_filters("parcel_id", gone):
        Overflow.objects.filter(community_id=community.pk).filter(where).delete()
    for reasons, ids in changed.items():
        for where in bulk.in_filters("parcel_id", sorted(ids)):
            Overflow.objects.filter(community_id=community.pk).filter(where).update(reasons=reasons)
    rows = [
        {"community_id": community.pk, "parcel_id": pid, "reasons": wanted[pid], "computed_at": now}
        for pid in fresh
    ]
    if bulk.available():
        bulk.copy_insert(Overflow, rows)
    else:
        Overflow.objects.bulk_create((Overflow(**row) for row in rows), batch_size=2000)
