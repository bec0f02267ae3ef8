"""/points (today's capacity), /drop-plans, /returns, /couriers."""

from django.db.models import Count
from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate

from jianjian import access
from jianjian.api.auth import principal
from jianjian.api.errors import ERRORS
from jianjian.api.pagination import Mapped, Pages
from jianjian.api.schemas import (
    PARCEL_RELATED,
    CourierOut,
    DropPlanOut,
    ParcelOut,
    PointOut,
    courier_out,
    parcel_out,
)
from jianjian.couriers import plans
from jianjian.parcels.models import Parcel, ParcelState
from jianjian.points.models import CollectionPoint, PointDay
from jianjian.points.room import rooms

router = Router(tags=["points and plans"])


@router.get("/points", response={200: list[PointOut], **ERRORS})
@paginate(Pages)
def list_points(request: HttpRequest):  # type: ignore[no-untyped-def]
    """Points the caller may see, with what they have taken in today and can still take."""
    points = (
        access.api_points(principal(request))
        .select_related("community")
        .order_by("community_id", "code")
    )
    return Mapped(points, page=_points_out)


def _points_out(points: list[CollectionPoint]) -> list[dict]:  # type: ignore[type-arg]
    """A page of points with today's counts: two queries for the page, not two per point."""
    days = {
        (day.point_id, day.date): day.intakes
        for day in PointDay.objects.filter(
            point__in=points, date__in={plans.today(p.community) for p in points}
        )
    }
    planned = dict(
        Parcel.objects.filter(planned_point__in=points, state=ParcelState.ANNOUNCED)
        .values("planned_point")
        .annotate(n=Count("pk"))
        .values_list("planned_point", "n")
    )
    # A locker's room is also bounded by its free compartments (one query for the page).
    room = rooms(points)
    return [
        _point_out(
            point,
            days.get((point.pk, plans.today(point.community)), 0),
            planned.get(point.pk, 0),
            room[point.pk].today(),
        )
        for point in points
    ]


def _point_out(  # type: ignore[type-arg]
    point: CollectionPoint, taken: int, planned: int, room: int
) -> dict:
    return {
        "id": point.pk,
        "community": point.community.slug,
        "code": point.code,
        "name": point.name,
        "kind": point.kind,
        "opening_hours": point.opening_hours,
        "daily_capacity": point.daily_capacity,
        "taken_in_today": taken,
        "remaining_today": max(room - planned, 0),
        "planned_today": planned,
        "on_hand": point.on_hand,
    }


@router.get("/drop-plans/{community}", response={200: DropPlanOut, **ERRORS})
def drop_plan(request: HttpRequest, community: str):  # type: ignore[no-untyped-def]
    """Today's drop plan for the caller's parcels in ``community``: how many to which point."""
    who = principal(request)
    found = access.api_community(who, community)
    plan = plans.drop_plan(found, access.api_parcels(who))
    return {
        "community": found.slug,
        "date": plan.date,
        "points": [
            {
                "point_id": stop.point.pk,
                "code": stop.point.code,
                "name": stop.point.name,
                "opening_hours": stop.point.opening_hours,
                "count": len(stop.parcels),
                "parcels": [
                    {
                        "id": p.pk,
                        "tracking_number": p.tracking_number,
                        "flat": p.recipient_flat.code if p.recipient_flat else None,
                    }
                    for p in stop.parcels
                ],
            }
            for stop in plan.stops
        ],
        "overflow": [
            {"id": p.pk, "tracking_number": p.tracking_number, "reasons": reasons}
            for p, reasons in plan.overflow
        ],
    }


@router.get("/returns", response={200: list[ParcelOut], **ERRORS})
@paginate(Pages)
def list_returns(request: HttpRequest):  # type: ignore[no-untyped-def]
    """Parcels past the hold period, waiting at a point to go back to their courier."""
    who = principal(request)
    communities = list(access.api_communities(who)) or list(
        {p.community for p in access.api_points(who).select_related("community")}
    )
    parcels = plans.returns_waiting(access.api_parcels(who), communities)
    return Mapped(
        parcels.select_related(*PARCEL_RELATED).order_by("intake_at", "pk"),
        lambda p: parcel_out(p, who),
    )


@router.get("/couriers", response={200: list[CourierOut], **ERRORS})
@paginate(Pages)
def list_couriers(request: HttpRequest):  # type: ignore[no-untyped-def]
    couriers = (
        access.api_couriers(principal(request))
        .select_related("carrier")
        .prefetch_related("communities")
        .order_by("pk")
    )
    return Mapped(couriers, courier_out)
