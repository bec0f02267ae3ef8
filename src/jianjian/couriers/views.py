"""The courier's pages (phone first): today's drop plan, receipts, returns, manifest upload, and
ending an announced parcel's pre-advice (delivered to the door, left with a neighbour, cancelled).

Thin: permission lookups come from :mod:`jianjian.access`, reads from :mod:`.plans`, the import
from :mod:`.manifests`, state changes from the lifecycle verbs in :mod:`jianjian.parcels.services`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from jianjian import access
from jianjian.communities.models import Community
from jianjian.communities.phones import mask_name
from jianjian.couriers import manifests, plans
from jianjian.couriers.allocation import (
    COMPARTMENT_SIZE,
    LOCKER_CONSENT,
    NO_CAPACITY,
    NO_POINTS,
    POINT_CLOSED,
)
from jianjian.couriers.models import Courier
from jianjian.exports import csv_text
from jianjian.parcels import services
from jianjian.parcels.errors import InvalidInput, InvalidTransition
from jianjian.parcels.models import Method, Parcel, ParcelState
from jianjian.roles import Role

MAX_UPLOAD = 20 * 1024 * 1024

REASONS = {
    NO_CAPACITY: gettext_lazy("every point is full today"),
    LOCKER_CONSENT: gettext_lazy("the resident does not accept lockers"),
    COMPARTMENT_SIZE: gettext_lazy("too big for the lockers"),
    POINT_CLOSED: gettext_lazy("the point is closed"),
    NO_POINTS: gettext_lazy("the community has no points"),
    "not_planned": gettext_lazy("not planned yet"),
}


def _courier(request: HttpRequest) -> Courier:
    courier = access.courier_of(request.user)
    if courier is None:
        raise Http404
    return courier


def _reasons(codes: list[str]) -> str:
    return "; ".join(str(REASONS.get(c, c)) for c in codes)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    courier = _courier(request)
    communities = list(courier.communities.order_by("name"))
    parcels = access.api_parcels(access.Principal(user=request.user, role=Role.COURIER))
    sections = []
    for community in communities:
        plan = plans.drop_plan(community, parcels)
        sections.append(
            {
                "community": community,
                "plan": plan,
                "overflow": [(p, _reasons(codes)) for p, codes in plan.overflow[:200]],
                "returns": list(
                    plans.returns_waiting(parcels, [community])
                    .select_related("point")
                    .order_by("point__code", "intake_at")[:200]
                ),
            }
        )
    context: dict[str, Any] = {
        "courier": courier,
        "sections": sections,
        "receipts": plans.receipts(courier, communities),
    }
    return render(request, "couriers/home.html", context)


class ManifestForm(forms.Form):
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(), label=gettext_lazy("Community"), empty_label=None
    )
    file = forms.FileField(label=gettext_lazy("Manifest (CSV or Excel .xlsx)"))
    import_good_rows = forms.BooleanField(
        required=False, label=gettext_lazy("If some rows are wrong, import the good rows anyway")
    )

    def __init__(self, courier: Courier, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = courier.communities.order_by("name")  # type: ignore[attr-defined]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("The file is larger than 20 MB."))
        return upload


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    courier = _courier(request)
    posted = request.method == "POST"  # an empty POST is bound too: it must say what is missing
    form = ManifestForm(
        courier, request.POST if posted else None, request.FILES if posted else None
    )
    report = None
    file_error = ""
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            rows = manifests.read_file(upload.name, upload.read())
        except manifests.ManifestError as exc:
            file_error = exc.message
        else:
            report = manifests.import_rows(
                form.cleaned_data["community"],
                rows,
                actor=services.Actor.of(request.user),  # type: ignore[arg-type]
                source="xlsx" if upload.name.lower().endswith(".xlsx") else "csv",
                courier=courier,
                filename=upload.name,
                import_good_rows=form.cleaned_data["import_good_rows"],
            )
    refused = file_error or form.errors or (report is not None and not report.accepted)
    status = 422 if refused else 200
    context = {"form": form, "report": report, "file_error": file_error, "courier": courier}
    return render(request, "couriers/upload.html", context, status=status)


@login_required
def plan_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """Today's drop plan as a spreadsheet; every cell escaped against formula injection."""
    courier = _courier(request)
    community = courier.communities.filter(slug=slug).first()
    if community is None:
        raise Http404
    parcels = access.api_parcels(access.Principal(user=request.user, role=Role.COURIER))
    plan = plans.drop_plan(community, parcels)
    rows: list[list[Any]] = [[_("point"), _("tracking number"), _("recipient"), _("flat")]]
    for stop in plan.stops:
        for p in stop.parcels:
            flat = p.recipient_flat.code if p.recipient_flat else ""
            rows.append([stop.point.code, p.tracking_number, mask_name(p.recipient_name), flat])
    for p, codes in plan.overflow:
        rows.append(
            [
                _("overflow: %(why)s") % {"why": _reasons(codes)},
                p.tracking_number,
                mask_name(p.recipient_name),
                "",
            ]
        )
    response = HttpResponse(csv_text(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="plan-{community.slug}-{plan.date}.csv"'
    )
    return response


# --- ending a pre-advice from the courier's page ---------------------------------------------

CANCEL, DOOR, NEIGHBOUR = "cancel", "door", "neighbour"


class EndForm(forms.Form):
    """What became of an announced parcel: it will not come, or it went to the door or to a
    named neighbour instead of a point."""

    outcome = forms.ChoiceField(
        label=gettext_lazy("What happened"),
        widget=forms.RadioSelect,
        choices=[
            (DOOR, gettext_lazy("Delivered to the door")),
            (NEIGHBOUR, gettext_lazy("Left with a neighbour")),
            (CANCEL, gettext_lazy("It will not come (cancel the pre-advice)")),
        ],
        error_messages={"required": gettext_lazy("Choose what happened to the parcel.")},
    )
    holder = forms.CharField(
        label=gettext_lazy("Neighbour (name and flat)"), max_length=100, required=False
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason (optional)"), max_length=200, required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("outcome") == NEIGHBOUR and not (data.get("holder") or "").strip():
            self.add_error("holder", _("Name the neighbour who took the parcel."))
        return data


def _end(parcel: Parcel, form: EndForm, actor: services.Actor) -> str:
    """Run the lifecycle verb the form asks for; the message to show once it is done."""
    outcome = form.cleaned_data["outcome"]
    if outcome == CANCEL:
        services.cancel_announced(
            parcel, actor=actor, reason=form.cleaned_data["reason"], method=Method.TYPED
        )
        return _("The pre-advice of %(number)s is cancelled.")
    services.delivered_elsewhere(
        parcel,
        actor=actor,
        place=outcome,
        holder=form.cleaned_data["holder"] if outcome == NEIGHBOUR else "",
        method=Method.TYPED,
    )
    if outcome == DOOR:
        return _("%(number)s is recorded as delivered to the door.")
    return _("%(number)s is recorded as left with a neighbour.")


@login_required
@require_http_methods(["GET", "POST"])
def end_preadvice(request: HttpRequest, parcel_id: int) -> HttpResponse:
    """Confirm, then end one of the courier's announced parcels (cancel, door, neighbour)."""
    parcel = access.courier_parcel_for(request.user, parcel_id)
    # Bound on every POST, an empty one too: it must say what is missing.
    form = EndForm(request.POST if request.method == "POST" else None)
    refused = ""
    status = 200
    if parcel.state != ParcelState.ANNOUNCED:
        refused = _refusal(parcel)
        status = 409
    elif request.method == "POST":
        if form.is_valid():
            try:
                done = _end(parcel, form, services.Actor.of(request.user))  # type: ignore[arg-type]
            except InvalidTransition:
                # Taken in (or ended) between the page and the confirmation: nothing written.
                parcel.refresh_from_db()
                refused, status = _refusal(parcel), 409
            except InvalidInput as exc:
                form.add_error(None, exc.message)
                status = 422
            else:
                messages.success(request, done % {"number": parcel.tracking_number})
                return redirect("couriers:home")
        else:
            status = 422
    context = {"parcel": parcel, "form": form, "refused": refused}
    return render(request, "couriers/end.html", context, status=status)


def _refusal(parcel: Parcel) -> str:
    """Why this parcel's pre-advice can no longer end, in the courier's words."""
    if parcel.state in (ParcelState.AT_POINT, ParcelState.MISSING) and parcel.point is not None:
        return _(
            "%(number)s has already been taken in at %(point)s: its pre-advice is over and "
            "there is nothing to end."
        ) % {"number": parcel.tracking_number, "point": parcel.point.name}
    return _("%(number)s is no longer announced (%(state)s): there is nothing to end.") % {
        "number": parcel.tracking_number,
        "state": ParcelState(parcel.state).label,
    }
