"""Intake: one scan field. A pre-advised parcel is taken in at once; otherwise ask whose it is."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from jianjian.parcels import services
from jianjian.parcels.errors import (
    AmbiguousRecipient,
    CapacityExceeded,
    CarrierAmbiguous,
    ParcelError,
    RecipientNeeded,
)
from jianjian.parcels.lifecycle.rules import carrier_label
from jianjian.parcels.models import Method
from jianjian.parcels.queries import recipient_label, recipient_suggestions
from jianjian.web.counter.common import actor, counter_point, first_error, page, queue_label
from jianjian.web.counter.forms import ScanForm

FULL = "web/counter/intake.html"
PART = "web/counter/_intake_result.html"


@login_required
@require_GET
def intake_screen(request: HttpRequest, point_id: int) -> HttpResponse:
    point = counter_point(request, point_id)
    return page(request, point, "intake", FULL, {"outcome": None})


@login_required
@require_POST
def intake_scan(request: HttpRequest, point_id: int) -> HttpResponse:
    point = counter_point(request, point_id)
    form = ScanForm(request.POST)
    if not form.is_valid():
        return _answer(request, point, "error", form.data, error=first_error(form))
    data = form.cleaned_data
    typed = bool(data["last4"] or data["flat"] or data["phone"])
    try:
        result = services.intake(
            point,
            form.scan(),
            actor=actor(request),
            method=Method.TYPED if typed else Method.SCAN,
        )
    except CarrierAmbiguous as exc:
        carriers = [(c, carrier_label(c)) for c in exc.details["candidates"]]
        return _answer(request, point, "carrier", data, error=exc.message, carriers=carriers)
    except RecipientNeeded as exc:
        return _answer(request, point, "recipient", data, error="" if not typed else exc.message)
    except AmbiguousRecipient as exc:
        return _answer(request, point, "recipient", data, error=exc.message, need_phone=True)
    except CapacityExceeded as exc:
        return _answer(request, point, "capacity", data, error=exc.message)
    except ParcelError as exc:
        # A recipient typed wrong keeps the recipient form open so the clerk can correct it.
        outcome = "recipient" if typed and exc.code != "at_other_point" else "error"
        return _answer(request, point, outcome, data, error=exc.message)
    if not result.duplicate:
        queue_label(request.session, point, result.parcel.pk)
    outcome = "duplicate" if result.duplicate else ("found" if result.found else "taken")
    return _answer(
        request,
        point,
        outcome,
        data,
        remaining=result.remaining_capacity,  # the room the intake left, as it reported it
        parcel=result.parcel,
        recipient=recipient_label(result.parcel),
        wrong_point="wrong_point" in result.warnings,
        outside_hours="outside_hours" in result.warnings,
    )


def _answer(request, point, outcome, data, remaining=None, **context):  # type: ignore[no-untyped-def]
    context.update(outcome=outcome, data=data)
    return page(request, point, "intake", FULL, context, part=PART, remaining=remaining)


@login_required
@require_GET
def suggest(request: HttpRequest, point_id: int) -> HttpResponse:
    """Flats to offer while the clerk types the last 4 digits or the flat."""
    point = counter_point(request, point_id)
    options = recipient_suggestions(
        point.community,
        last4=request.GET.get("last4", "")[:4],
        flat=request.GET.get("flat", "")[:20],
    )
    return render(request, "web/counter/_suggestions.html", {"options": options})
