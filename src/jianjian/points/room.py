"""How many more parcels a point can take in today: its *room*.

A counter or shelf has room while its daily capacity lasts. A locker also needs a free
compartment big enough for the parcel, so its room is the smaller of the capacity left today and
the free compartments (of at least the parcel's size, when it is known). Everything that shows or
decides a point's room — the API's ``/points``, the counter's capacity line, the drop plan — asks
here, so a locker with capacity left but every compartment full never looks open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Count, Q

from jianjian import clock
from jianjian.communities.models import Community
from jianjian.parcels.models import ParcelState
from jianjian.points.models import SIZE_ORDER, CollectionPoint, PointDay, PointKind, Slot


@dataclass(frozen=True)
class Room:
    point_id: int
    capacity_left: int  # daily capacity minus today's intakes
    is_locker: bool = False
    # Free compartments by size ("S"/"M"/"L" → count); lockers only.
    compartments: Mapping[str, int] = field(default_factory=dict)

    def today(self, size: str | None = None) -> int:
        """Room for one more parcel of ``size`` (any size when None)."""
        if not self.is_locker:
            return self.capacity_left
        least = SIZE_ORDER.get(size, 0) if size else 0
        free = sum(n for s, n in self.compartments.items() if SIZE_ORDER[s] >= least)
        return min(self.capacity_left, free)


def free_compartments(
    point_ids: list[int], community_ids: Iterable[int]
) -> dict[int, dict[str, int]]:
    """Active locker compartments with no parcel in them, counted by size, per point (read by
    community first: the tenant key leads every query on a community's tables)."""
    rows = (
        Slot.objects.filter(
            community_id__in=set(community_ids),
            point_id__in=point_ids,
            active=True,
            is_compartment=True,
        )
        .annotate(load=Count("parcels", filter=Q(parcels__state=ParcelState.AT_POINT)))
        .values_list("point_id", "size", "load")
    )
    out: dict[int, dict[str, int]] = {pid: {} for pid in point_ids}
    for point_id, size, load in rows:
        if load == 0:
            out[point_id][size] = out[point_id].get(size, 0) + 1
    return out


def rooms(points: Iterable[CollectionPoint], at: dt.datetime | None = None) -> dict[int, Room]:
    """Each point's :class:`Room` today (the local day of its community at ``at``), in three
    queries whatever the number of points."""
    at = at or clock.now()
    points = list(points)
    zones = dict(
        Community.objects.filter(pk__in={p.community_id for p in points}).values_list(
            "pk", "time_zone"
        )
    )
    days = {p.pk: at.astimezone(ZoneInfo(zones[p.community_id])).date() for p in points}
    intakes = {
        (point_id, date): n
        for point_id, date, n in PointDay.objects.filter(
            community_id__in=zones.keys(), point__in=points, date__in=set(days.values())
        ).values_list("point_id", "date", "intakes")
    }
    lockers = [p.pk for p in points if p.kind == PointKind.LOCKER]
    compartments = free_compartments(lockers, zones.keys()) if lockers else {}
    return {
        p.pk: Room(
            point_id=p.pk,
            capacity_left=max(p.daily_capacity - intakes.get((p.pk, days[p.pk]), 0), 0),
            is_locker=p.kind == PointKind.LOCKER,
            compartments=compartments.get(p.pk, {}),
        )
        for p in points
    }


def room_today(
    point: CollectionPoint, size: str | None = None, at: dt.datetime | None = None
) -> int:
    """How many more parcels (of ``size``, when known) ``point`` can take in today."""
    return rooms([point], at)[point.pk].today(size)
