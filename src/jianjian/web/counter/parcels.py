"""The on-hand list, a parcel's custody trail, labels, and choosing a point."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from jianjian import access, clock
from jianjian.parcels.errors import ParcelError
from jianjian.parcels.labels import THERMAL, label_data, render_labels
from jianjian.parcels.models import Parcel, ParcelState
from jianjian.parcels.queries import on_hand, recipient_label
from jianjian.web.counter.common import (
    clear_label_queue,
    counter_point,
    label_queue,
    page,
)
from jianjian.web.counter.forms import LabelLayoutForm, OnHandFilter


def home_for(user) -> str | None:  # type: ignore[no-untyped-def]
    """Where a signed-in clerk starts: their point's intake, or the point picker."""
    points = list(access.clerk_points(user).values_list("pk", flat=True)[:2])
    if not points:
        return None
    if len(points) == 1:
        return reverse("counter:intake", args=[points[0]])
    return reverse("counter:choose")


@login_required
@require_GET
def choose_point(request: HttpRequest) -> HttpResponse:
    points = list(
        access.clerk_points(request.user)
        .select_related("community")
        .order_by("community__name", "code")
    )
    if not points:
        raise Http404
    return render(request, "web/counter/choose.html", {"points": points})


@login_required
@require_GET
def on_hand_list(request: HttpRequest, point_id: int) -> HttpResponse:
    point = counter_point(request, point_id)
    form = OnHandFilter(request.GET)
    now = clock.now()
    error = ""
    listing = None
    if form.is_valid():
        try:
            listing = on_hand(
                point,
                now,
                carrier=form.cleaned_data["carrier"],
                flat=form.cleaned_data["flat"],
                overdue=form.cleaned_data["overdue"],
                search=form.cleaned_data["q"],
            )
        except ParcelError as exc:
            error = exc.message
    return page(
        request,
        point,
        "parcels",
        "web/counter/parcels.html",
        {"form": form, "listing": listing, "error": error, "now": now},
    )


@login_required
@require_GET
def parcel_detail(request: HttpRequest, point_id: int, parcel_id: int) -> HttpResponse:
    point = counter_point(request, point_id)
    parcel = _parcel(request, point, parcel_id)
    events = list(parcel.events.select_related("actor", "point", "slot", "courier").order_by("seq"))
    return page(
        request,
        point,
        "parcels",
        "web/counter/parcel.html",
        {
            "parcel": parcel,
            "events": events,
            "recipient": recipient_label(parcel),
            "at_point": parcel.state == ParcelState.AT_POINT and parcel.point_id == point.pk,
        },
    )


def _parcel(request: HttpRequest, point, parcel_id: int) -> Parcel:  # type: ignore[no-untyped-def]
    parcel = access.counter_parcel_for(request.user, point, parcel_id)
    return Parcel.objects.select_related(
        "community", "carrier", "point", "slot", "recipient_flat", "returned_to"
    ).get(pk=parcel.pk)


def _pdf(pdf: bytes, name: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


def _layout(request: HttpRequest) -> str:
    form = LabelLayoutForm(request.GET)
    return (form.is_valid() and form.cleaned_data["layout"]) or THERMAL


@login_required
@require_GET
def parcel_label(request: HttpRequest, point_id: int, parcel_id: int) -> HttpResponse:
    point = counter_point(request, point_id)
    parcel = _parcel(request, point, parcel_id)
    if parcel.state != ParcelState.AT_POINT or parcel.point_id != point.pk:
        raise Http404
    return _pdf(render_labels([label_data(parcel)], _layout(request)), f"{parcel.pickup_code}.pdf")


@login_required
@require_GET
def queued_labels(request: HttpRequest, point_id: int) -> HttpResponse:
    """The labels of every parcel taken in since the queue was last cleared."""
    point = counter_point(request, point_id)
    ids = label_queue(request.session, point)
    parcels = Parcel.objects.filter(
        pk__in=ids, point=point, state=ParcelState.AT_POINT
    ).select_related("community", "point", "slot", "recipient_flat")
    by_id = {p.pk: p for p in parcels}
    labels = [label_data(by_id[i]) for i in ids if i in by_id]
    return _pdf(render_labels(labels, _layout(request)), "labels.pdf")


@login_required
@require_POST
def clear_labels(request: HttpRequest, point_id: int) -> HttpResponse:
    point = counter_point(request, point_id)
    clear_label_queue(request.session, point)
    return redirect("counter:intake", point.pk)
