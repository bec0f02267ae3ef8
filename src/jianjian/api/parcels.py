"""/parcels: read, search, intake (one scan or a batch), hand-over, return."""

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router
from ninja.pagination import paginate

from jianjian import access
from jianjian.api.auth import principal, writer
from jianjian.api.errors import ERRORS, Forbidden
from jianjian.api.pagination import Mapped, Pages
from jianjian.api.schemas import (
    PARCEL_RELATED,
    BatchIntakeIn,
    BatchIntakeOut,
    CancelIn,
    ElsewhereIn,
    HandOverIn,
    In,
    IntakeIn,
    IntakeOut,
    ParcelOut,
    ReturnIn,
    parcel_out,
)
from jianjian.couriers.models import Courier
from jianjian.couriers.recognition import normalize_tracking
from jianjian.parcels import services
from jianjian.parcels.errors import ParcelError
from jianjian.parcels.lifecycle.scan import IntakeResult
from jianjian.parcels.models import Method, Parcel, ParcelState
from jianjian.points.models import CollectionPoint

router = Router(tags=["parcels"])


class ParcelFilter(In):
    q: str = ""  # a tracking number, exactly (the common search) or its last digits
    state: ParcelState | None = None
    community: str = ""


def _actor(request: HttpRequest) -> services.Actor:
    who = principal(request)
    if who.user is not None:
        return services.Actor.of(who.user)
    return services.Actor.system(f"api:{who.token.name if who.token else 'anonymous'}")


def _search(parcels: QuerySet[Parcel], q: str) -> QuerySet[Parcel]:
    q = q.strip()
    if not q:
        return parcels
    try:
        number = normalize_tracking(q)
    except Exception:
        return parcels.none()
    if len(number) >= 8:
        return parcels.filter(tracking_number=number)
    return parcels.filter(tracking_number__endswith=number)


@router.get("/parcels", response={200: list[ParcelOut], **ERRORS})
@paginate(Pages)
def list_parcels(request: HttpRequest, filters: Query[ParcelFilter]):  # type: ignore[no-untyped-def]
    who = principal(request)
    parcels = access.api_parcels(who).select_related(*PARCEL_RELATED)
    if filters.state:
        parcels = parcels.filter(state=filters.state)
    if filters.community:
        parcels = parcels.filter(community__slug=filters.community)
    rows = _search(parcels, filters.q).order_by("-pk")
    return Mapped(rows, lambda p: parcel_out(p, who))


def _courier(who: access.Principal, courier_id: int | None) -> Courier | None:
    if courier_id is None:
        return None
    return get_object_or_404(access.api_couriers(who), pk=courier_id)


@router.post("/parcels/intake", response={200: IntakeOut, **ERRORS})
def intake(request: HttpRequest, body: IntakeIn):  # type: ignore[no-untyped-def]
    """Take one scanned parcel in at a point (clerks and admins)."""
    who = writer(request)
    point = _working_point(who, body.point_id, scan=True)
    result = services.intake(
        point,
        body.scan(),
        actor=_actor(request),
        method=Method.API,
        courier=_courier(who, body.courier_id),
    )
    # The parcel as intake left it (its point, slot, carrier and flat in hand): no re-read.
    return {
        "parcel": parcel_out(result.parcel, who),
        "created": result.created,
        "duplicate": result.duplicate,
        "found": result.found,
        "warnings": result.warnings,
        "remaining_capacity": result.remaining_capacity,
    }


@router.post("/parcels/intake/batch", response={200: BatchIntakeOut, **ERRORS})
def intake_batch(request: HttpRequest, body: BatchIntakeIn):  # type: ignore[no-untyped-def]
    """Take a station's scan stream in: one transaction for the batch, each scan in its own
    savepoint with its own answer, so one bad scan does not undo the others."""
    who = writer(request)
    point = _working_point(who, body.point_id, scan=True)
    courier = _courier(who, body.courier_id)
    outcomes = services.intake_many(
        point,
        [scan.scan() for scan in body.scans],
        actor=_actor(request),
        method=Method.API,
        courier=courier,
    )
    results, remaining = [], _remaining_after(point, outcomes)
    for scan, r in zip(body.scans, outcomes, strict=True):
        if isinstance(r, ParcelError):
            results.append(
                {
                    "tracking_number": scan.tracking_number,
                    "ok": False,
                    "code": r.code,
                    "message": r.message,
                    "candidates": r.details.get("candidates"),
                }
            )
            continue
        results.append(
            {
                "tracking_number": r.parcel.tracking_number,
                "ok": True,
                "parcel_id": r.parcel.pk,
                "pickup_code": r.parcel.pickup_code if who.sees_code(r.parcel) else None,
                "created": r.created,
                "duplicate": r.duplicate,
                "warnings": r.warnings,
            }
        )
    ok = sum(1 for r in results if r["ok"])
    return {
        "taken_in": ok,
        "failed": len(results) - ok,
        "remaining_capacity": remaining,
        "results": results,
    }


def _remaining_after(point: CollectionPoint, outcomes: list[IntakeResult | ParcelError]) -> int:
    """The point's room after the whole batch: what its last intake answered (a refused scan
    after it took none), or, when none went in, asked anew of the point as it is stored (the
    scan path's ``point`` carries only its id and community)."""
    for outcome in reversed(outcomes):
        if isinstance(outcome, IntakeResult):
            return outcome.remaining_capacity
    return services.remaining_capacity(
        CollectionPoint.objects.select_related("community").get(
            community_id=point.community_id, pk=point.pk
        )
    )


# After /parcels/intake…: a path parameter would otherwise match those words.
@router.get("/parcels/{parcel_id}", response={200: ParcelOut, **ERRORS})
def get_parcel(request: HttpRequest, parcel_id: int):  # type: ignore[no-untyped-def]
    who = principal(request)
    return parcel_out(access.api_parcel(who, parcel_id), who)


@router.post("/parcels/{parcel_id}/hand-over", response={200: ParcelOut, **ERRORS})
def hand_over(request: HttpRequest, parcel_id: int, body: HandOverIn):  # type: ignore[no-untyped-def]
    """Hand a parcel to its resident at the point (clerks and admins of that point)."""
    who = writer(request)
    parcel = access.api_parcel(who, parcel_id)
    if parcel.point_id is None:
        raise Http404
    point = _working_point(who, parcel.point_id)
    services.hand_over(point, [parcel], actor=_actor(request), method=body.method)
    return parcel_out(_reread(parcel), who)


@router.post("/parcels/{parcel_id}/return", response={200: ParcelOut, **ERRORS})
def return_parcel(request: HttpRequest, parcel_id: int, body: ReturnIn):  # type: ignore[no-untyped-def]
    """Give a parcel back to a courier (clerks and admins of its point)."""
    who = writer(request)
    parcel = access.api_parcel(who, parcel_id)
    if parcel.point_id is None:
        raise Http404
    _working_point(who, parcel.point_id)
    courier = access.collecting_courier(parcel.community, body.courier_id)
    if courier is None:
        raise Http404
    services.return_to_courier(
        parcel, courier=courier, actor=_actor(request), method=Method.API, reason=body.reason
    )
    return parcel_out(_reread(parcel), who)


def _reread(parcel: Parcel) -> Parcel:
    """The parcel as the change left it, read by its community and id (the tenant key first)."""
    return Parcel.objects.select_related(*PARCEL_RELATED).get(
        community_id=parcel.community_id, pk=parcel.pk
    )


def _ending_parcel(request: HttpRequest, parcel_id: int) -> tuple[access.Principal, Parcel]:
    """A pre-advised parcel its carrier's courier or system (or an admin) may end."""
    who = writer(request)
    if who.role not in ("courier", "integration", "admin") and access.api_courier(who) is None:
        raise Forbidden()
    return who, access.api_parcel(who, parcel_id)


@router.post("/parcels/{parcel_id}/cancel", response={200: ParcelOut, **ERRORS})
def cancel_parcel(request: HttpRequest, parcel_id: int, body: CancelIn):  # type: ignore[no-untyped-def]
    """The pre-advised parcel will not come (couriers and carrier systems of its carrier)."""
    who, parcel = _ending_parcel(request, parcel_id)
    parcel = services.cancel_announced(
        parcel, actor=_actor(request), reason=body.reason, method=Method.API
    )
    return parcel_out(parcel, who)


@router.post("/parcels/{parcel_id}/delivered-elsewhere", response={200: ParcelOut, **ERRORS})
def delivered_elsewhere(request: HttpRequest, parcel_id: int, body: ElsewhereIn):  # type: ignore[no-untyped-def]
    """The pre-advised parcel was delivered at the door or to a neighbour (named), not to a
    point (couriers and carrier systems of its carrier)."""
    who, parcel = _ending_parcel(request, parcel_id)
    parcel = services.delivered_elsewhere(
        parcel, actor=_actor(request), place=body.place, holder=body.holder, method=Method.API
    )
    return parcel_out(parcel, who)


def _working_point(who: access.Principal, point_id: int, *, scan: bool = False):  # type: ignore[no-untyped-def]
    """The point the caller works at; ``scan``: only its id and community, for a service that
    locks and reads it itself."""
    if not access.works_counters(who):
        raise Forbidden()
    if scan:
        return access.api_scan_point(who, point_id)
    return access.api_work_point(who, point_id)
