"""Returns: dead parcels grouped by carrier; the collecting courier is chosen, each parcel scanned out."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jianjian import access, clock
from jianjian.parcels import services
from jianjian.parcels.errors import NotFound, ParcelError
from jianjian.parcels.models import Method
from jianjian.parcels.queries import community_couriers, due_for_return, parcel_at_point
from jianjian.web.counter.common import actor, counter_point, first_error, page
from jianjian.web.counter.forms import ReturnScanForm

FULL = "web/counter/returns.html"
PART = "web/counter/_returns.html"


@login_required
@require_GET
def returns_screen(request: HttpRequest, point_id: int) -> HttpResponse:
    point = counter_point(request, point_id)
    return _answer(request, point, courier_id=_int(request.GET.get("courier")))


@login_required
@require_POST
def returns_scan(request: HttpRequest, point_id: int) -> HttpResponse:
    point = counter_point(request, point_id)
    form = ReturnScanForm(request.POST)
    courier_id = _int(request.POST.get("courier"))
    if not form.is_valid():
        return _answer(request, point, courier_id=courier_id, error=first_error(form))
    data = form.cleaned_data
    try:
        courier = access.collecting_courier(point.community, data["courier"])
        if courier is None:
            raise NotFound(_("Choose the courier who collects the parcels."), code="courier")
        parcel = parcel_at_point(point, data["number"])
        returned = services.return_to_courier(
            parcel,
            courier=courier,
            actor=actor(request),
            method=Method.SCAN,
            reason=data["reason"],
        )
    except ParcelError as exc:
        return _answer(
            request, point, courier_id=courier_id, reason=data["reason"], error=exc.message
        )
    return _answer(request, point, courier_id=courier_id, reason=data["reason"], returned=returned)


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def _answer(request, point, **context):  # type: ignore[no-untyped-def]
    context.setdefault("reason", "dead")
    context["groups"] = due_for_return(point, clock.now())
    context["couriers"] = community_couriers(point.community)
    return page(request, point, "returns", FULL, context, part=PART)
