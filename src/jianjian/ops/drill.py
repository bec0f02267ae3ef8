"""Endpoints for reliability drills (``bench/chaos.py``): intake, pickup and return over HTTP.

They exist only when ``JIANJIAN_DRILL_TOKEN`` is set, answer 404 otherwise, and demand that token
as a bearer token. Each is a thin call of one lifecycle service, exactly as a page or the API
would make it, so a drill exercises the real transaction and idempotency paths.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from jianjian.couriers.models import Courier
from jianjian.ops.views import _bearer_ok
from jianjian.parcels import services
from jianjian.parcels.errors import ParcelError
from jianjian.parcels.models import Method, Parcel
from jianjian.points.models import CollectionPoint

ACTOR = services.Actor.system("drill")
View = Callable[[HttpRequest, dict[str, Any]], JsonResponse]


def drill(view: View) -> Callable[[HttpRequest], JsonResponse]:
    @csrf_exempt
    @require_POST
    @wraps(view)
    def wrapper(request: HttpRequest) -> JsonResponse:
        if not settings.DRILL_TOKEN or not _bearer_ok(request, settings.DRILL_TOKEN):
            raise Http404
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return JsonResponse({"error": "bad_json"}, status=400)
        try:
            return view(request, data)
        except ParcelError as exc:
            return JsonResponse({"error": exc.code, "message": str(exc.message)}, status=409)
        except (CollectionPoint.DoesNotExist, Parcel.DoesNotExist, Courier.DoesNotExist):
            return JsonResponse({"error": "not_found"}, status=404)

    return wrapper


def _point(data: dict[str, Any]) -> CollectionPoint:
    return CollectionPoint.objects.select_related("community").get(
        community__slug=data["community"], code=data["point"]
    )


@drill
def intake(request: HttpRequest, data: dict[str, Any]) -> JsonResponse:
    result = services.intake(
        _point(data), data["tracking"], actor=ACTOR, method=Method.API, phone=data.get("phone", "")
    )
    return JsonResponse(
        {"parcel": result.parcel.pk, "code": result.parcel.pickup_code, "dup": result.duplicate}
    )


@drill
def pickup(request: HttpRequest, data: dict[str, Any]) -> JsonResponse:
    point = _point(data)
    parcel = Parcel.objects.get(community=point.community, tracking_number=data["tracking"])
    services.hand_over(point, [parcel], actor=ACTOR, method=Method.API)
    return JsonResponse({"parcel": parcel.pk})


@drill
def return_(request: HttpRequest, data: dict[str, Any]) -> JsonResponse:
    point = _point(data)
    parcel = Parcel.objects.get(community=point.community, tracking_number=data["tracking"])
    courier = Courier.objects.get(pk=data["courier"])
    services.return_to_courier(parcel, courier=courier, actor=ACTOR, method=Method.API)
    return JsonResponse({"parcel": parcel.pk})
