"""Pickup: the resident's QR code, a pickup code or a phone tail → their parcels → one click."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jianjian import clock
from jianjian.communities.models import PickupProxy
from jianjian.parcels import services
from jianjian.parcels.errors import NotFound, ParcelError
from jianjian.parcels.models import Method, Parcel
from jianjian.parcels.queries import PickupLookup, find_proxy, lookup_for_pickup
from jianjian.web.counter.common import actor, counter_point, first_error, page
from jianjian.web.counter.forms import HandOverForm, LookupForm

FULL = "web/counter/pickup.html"
PART = "web/counter/_pickup_result.html"
METHODS = {Method.CODE, Method.QR, Method.PHONE_TAIL}


@login_required
@require_GET
def pickup_screen(request: HttpRequest, point_id: int) -> HttpResponse:
    point = counter_point(request, point_id)
    return page(request, point, "pickup", FULL, {"outcome": None})


@login_required
@require_POST
def pickup_lookup(request: HttpRequest, point_id: int) -> HttpResponse:
    point = counter_point(request, point_id)
    form = LookupForm(request.POST)
    if not form.is_valid():
        return _answer(request, point, "error", error=first_error(form))
    q = form.cleaned_data["q"]
    try:
        lookup = lookup_for_pickup(point, q, clock.now())
    except ParcelError as exc:
        return _answer(request, point, "error", error=exc.message)
    return _answer(request, point, "found", lookup=lookup, q=q)


@login_required
@require_POST
def pickup_hand_over(request: HttpRequest, point_id: int) -> HttpResponse:
    point = counter_point(request, point_id)
    form = HandOverForm(request.POST)
    if not form.is_valid():
        return _answer(request, point, "error", error=first_error(form))
    data = form.cleaned_data
    ids = data["parcel"]
    # Only parcels of this point are handed over here; the services re-check under lock.
    chosen = list(Parcel.objects.filter(pk__in=ids, point=point))
    method = data["method"] if data["method"] in METHODS else Method.CODE
    try:
        if len(chosen) != len(set(ids)):
            raise NotFound(_no_longer_here())
        proxy = _proxy(point, data, chosen)
        handed = services.hand_over(point, chosen, actor=actor(request), method=method, proxy=proxy)
    except ParcelError as exc:
        return _again(request, point, data["q"], exc.message)
    return _answer(request, point, "handed", handed=handed, proxy=proxy)


def _no_longer_here() -> str:
    return _("A parcel you chose is no longer at this point; nothing was handed over.")


def _proxy(point, data, chosen) -> PickupProxy | None:  # type: ignore[no-untyped-def]
    """The proxy collecting: the one the lookup found, or the one the clerk names by phone."""
    if data["proxy_phone"].strip():
        return find_proxy(point.community, data["proxy_phone"], {p.recipient_id for p in chosen})
    if data["proxy"]:
        proxy = PickupProxy.objects.filter(pk=data["proxy"], community=point.community).first()
        if proxy is None:
            raise NotFound(_no_longer_here())
        return proxy
    return None


def _again(request: HttpRequest, point, q: str, error: str) -> HttpResponse:  # type: ignore[no-untyped-def]
    """Show the error above the same list again, so the clerk can correct and confirm."""
    lookup: PickupLookup | None = None
    if q:
        try:
            lookup = lookup_for_pickup(point, q, clock.now())
        except ParcelError:
            lookup = None
    outcome = "found" if lookup else "error"
    return _answer(request, point, outcome, lookup=lookup, q=q, error=error)


def _answer(request, point, outcome, **context):  # type: ignore[no-untyped-def]
    context["outcome"] = outcome
    return page(request, point, "pickup", FULL, context, part=PART)
