"""What a courier reads: today's drop plan, the points' receipts, and the returns waiting.

Read-only queries shared by the courier's page and the API.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet

from jianjian import clock
from jianjian.communities.models import Community
from jianjian.couriers.models import Courier, Overflow
from jianjian.parcels.models import CustodyEvent, EventKind, Parcel, ParcelState
from jianjian.parcels.policy import dead_q
from jianjian.points.models import CollectionPoint


@dataclass
class PlanStop:
    point: CollectionPoint
    parcels: list[Parcel] = field(default_factory=list)


@dataclass
class DropPlan:
    community: Community
    date: dt.date
    stops: list[PlanStop]
    overflow: list[tuple[Parcel, list[str]]]

    @property
    def total(self) -> int:
        return sum(len(s.parcels) for s in self.stops) + len(self.overflow)


def today(community: Community) -> dt.date:
    return clock.now().astimezone(ZoneInfo(community.time_zone)).date()


def drop_plan(community: Community, parcels: QuerySet[Parcel]) -> DropPlan:
    """Announced ``parcels`` of ``community`` grouped by planned point, then the overflow."""
    waiting = parcels.filter(community=community, state=ParcelState.ANNOUNCED)
    announced = list(waiting.select_related("recipient_flat").order_by("pk"))
    points = {p.pk: p for p in CollectionPoint.objects.filter(community=community)}
    stops: dict[int, PlanStop] = {}
    unplanned: list[Parcel] = []
    for parcel in announced:
        if parcel.planned_point_id in points:
            stop = stops.setdefault(
                parcel.planned_point_id, PlanStop(points[parcel.planned_point_id])
            )
            stop.parcels.append(parcel)
        else:
            unplanned.append(parcel)
    # One query with the parcels as a subquery: a list of ids would hit SQLite's variable limit
    # on a big day (and was once cut at 5,000, showing the rest as "not_planned").
    reasons = dict(
        Overflow.objects.filter(community=community, parcel__in=waiting.values("pk")).values_list(
            "parcel_id", "reasons"
        )
    )
    overflow = [(p, (reasons.get(p.pk) or "not_planned").split(",")) for p in unplanned]
    ordered = sorted(stops.values(), key=lambda s: s.point.code)
    return DropPlan(community, today(community), ordered, overflow)


@dataclass
class Receipt:
    point: CollectionPoint
    events: list[CustodyEvent]

    @property
    def wrong_point(self) -> list[CustodyEvent]:
        return [e for e in self.events if "wrong_point" in (e.data or {}).get("warnings", [])]


def receipts(courier: Courier, communities: Iterable[Community]) -> list[Receipt]:
    """What each point took in today from ``courier``, wrong-point warnings included."""
    out: dict[int, Receipt] = {}
    for community in communities:
        zone = ZoneInfo(community.time_zone)
        start = dt.datetime.combine(today(community), dt.time(0), tzinfo=zone)
        events = (
            CustodyEvent.objects.filter(community=community, kind=EventKind.INTAKE, at__gte=start)
            .filter(Q(courier=courier) | Q(parcel__delivering_courier=courier))
            .select_related("parcel", "point")
            .order_by("at", "pk")
        )
        for event in events:
            assert event.point is not None
            out.setdefault(event.point_id, Receipt(event.point, [])).events.append(  # type: ignore[arg-type]
                event
            )
    return sorted(out.values(), key=lambda r: (r.point.community_id, r.point.code))


def returns_waiting(
    parcels: QuerySet[Parcel], communities: Iterable[Community]
) -> QuerySet[Parcel]:
    """Parcels past the hold period at a point, due back to their courier."""
    now = clock.now()
    q = Q(pk__in=[])
    for community in communities:
        q |= Q(community=community) & dead_q(community, now)
    return parcels.filter(q)
