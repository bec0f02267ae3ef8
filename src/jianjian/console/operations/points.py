"""Console pages of a community's collection points: the list, a point's settings and weekly
hours, its temporary closures, its slots and its distances to the buildings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jianjian import access
from jianjian.communities.models import Building
from jianjian.console import audit
from jianjian.console.operations.common import add_errors, local_today
from jianjian.console.operations.forms import (
    ClosureForm,
    CompartmentsForm,
    DistancesForm,
    PointForm,
    ShelvesForm,
)
from jianjian.couriers.models import PointDistance
from jianjian.points import closures, slots
from jianjian.points.hours import week_summary
from jianjian.points.models import PointClosure, PointKind


@login_required
def point_list(request: HttpRequest, slug: str) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    points = list(
        access.console_points(request.user, community)
        .select_related("building")
        .prefetch_related("closures")
        .order_by("code")
    )
    today = local_today(community)
    rows = [(p, p.closed_on(today), slots.counts(p)) for p in points]
    return render(
        request,
        "console/operations/points.html",
        {"community": community, "rows": rows, "today": today},
    )


@login_required
def point_edit(request: HttpRequest, slug: str, pk: int | None = None) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    point = access.console_point_for(request.user, community, pk) if pk is not None else None
    before = week_summary(point.hours) if point else ""
    form = PointForm(request.POST or None, instance=point, community=community)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save(commit=False)
            saved.community = community
            saved.save()
            # The weekday fields are summed up in one "hours" change below.
            changes = audit.changes_of(form, PointForm.Meta.fields)
            after = week_summary(saved.hours)
            if after != before:
                changes["hours"] = [before or None, after]
            audit.record(
                request.user,
                community,
                "update" if point else "create",
                (_("Point %(point)s changed") if point else _("Point %(point)s added"))
                % {"point": saved},
                saved,
                changes,
            )
        messages.success(request, _("Saved."))
        return redirect("console:ops-points", slug=community.slug)
    return render(
        request,
        "console/operations/point_form.html",
        {"community": community, "point": point, "form": form},
    )


@login_required
def point_closures(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    point = access.console_point_for(request.user, community, pk)
    today = local_today(community)
    form = ClosureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                closure = closures.close(
                    point, data["starts_on"], data["ends_on"], data["reason"], today
                )
                audit.record(
                    request.user,
                    community,
                    "close",
                    _("Point %(point)s closed %(first)s–%(last)s: %(reason)s")
                    % {
                        "point": point,
                        "first": closure.starts_on,
                        "last": closure.ends_on,
                        "reason": closure.reason,
                    },
                    closure,
                    {
                        "starts_on": [None, closure.starts_on],
                        "ends_on": [None, closure.ends_on],
                        "reason": [None, closure.reason],
                    },
                )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(
                request, _("Closure saved; planned parcels were moved and the couriers told.")
            )
            return redirect("console:ops-closures", slug=community.slug, pk=point.pk)
    rows = [
        (c, c.span(), c.span()[1] >= today and c.span()[0] <= c.span()[1])
        for c in PointClosure.objects.filter(point=point).order_by("-starts_on", "-pk")[:100]
    ]
    return render(
        request,
        "console/operations/closures.html",
        {"community": community, "point": point, "form": form, "rows": rows, "today": today},
    )


@login_required
@require_POST
def closure_end(request: HttpRequest, slug: str, pk: int, closure_id: int) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    point = access.console_point_for(request.user, community, pk)
    closure = access.console_closure_for(request.user, point, closure_id)
    today = local_today(community)
    with transaction.atomic():
        ended = closures.end_early(closure, today)
        if ended:
            closure.refresh_from_db()
            audit.record(
                request.user,
                community,
                "reopen",
                _("Point %(point)s open again from %(day)s")
                % {"point": point, "day": closure.reopened_on},
                closure,
                {"reopened_on": [None, closure.reopened_on]},
            )
    if ended:
        messages.success(request, _("The point is open again; the couriers were told."))
    else:
        messages.error(request, _("That closure is already over."))
    return redirect("console:ops-closures", slug=community.slug, pk=point.pk)


@login_required
def point_slots(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    point = access.console_point_for(request.user, community, pk)
    is_locker = point.kind == PointKind.LOCKER
    shelves, tiers = slots.shelf_shape(point)
    sizes = slots.compartment_sizes(point)
    if is_locker:
        form: ShelvesForm | CompartmentsForm = CompartmentsForm(
            request.POST or None,
            initial={"small": sizes["S"], "medium": sizes["M"], "large": sizes["L"]},
        )
    else:
        form = ShelvesForm(
            request.POST or None, initial={"shelves": shelves or 10, "tiers": tiers or 5}
        )
    if request.method == "POST" and form.is_valid():
        if isinstance(form, CompartmentsForm):
            wanted = form.sizes()
            places = slots.compartment_places(wanted)
            summary = _("Point %(point)s: compartments %(s)s S, %(m)s M, %(l)s L") % {
                "point": point,
                "s": wanted["S"],
                "m": wanted["M"],
                "l": wanted["L"],
            }
            changes: dict[str, object] = {"compartments": [sizes, wanted]}
        else:
            data = form.cleaned_data
            places = slots.shelf_places(data["shelves"], data["tiers"])
            summary = _("Point %(point)s: %(shelves)s shelves × %(tiers)s tiers") % {
                "point": point,
                "shelves": data["shelves"],
                "tiers": data["tiers"],
            }
            changes = {"shelves": [shelves, data["shelves"]], "tiers": [tiers, data["tiers"]]}
        try:
            with transaction.atomic():
                layout = slots.lay_out(point, places, compartments=is_locker)
                changes["result"] = [None, layout.__dict__]
                audit.record(request.user, community, "slots", summary, point, changes)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(
                request,
                _(
                    "Slots laid out: %(created)s added, %(reactivated)s back in use, "
                    "%(deactivated)s deactivated, %(deleted)s removed."
                )
                % layout.__dict__,
            )
            return redirect("console:ops-slots", slug=community.slug, pk=point.pk)
    return render(
        request,
        "console/operations/slots.html",
        {
            "community": community,
            "point": point,
            "form": form,
            "counts": slots.counts(point),
            "is_locker": is_locker,
        },
    )


@login_required
def point_distances(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    point = access.console_point_for(request.user, community, pk)
    buildings = list(Building.objects.filter(community=community).order_by("number")[:1000])
    rows = PointDistance.objects.filter(community=community, point=point)
    current = {r.building_id: r.distance for r in rows}
    form = DistancesForm(request.POST or None, buildings=buildings, current=current)
    if request.method == "POST" and form.is_valid():
        wanted = form.wanted()
        changes = {
            str(b): [current.get(b.pk), wanted[b.pk]]
            for b in buildings
            if current.get(b.pk) != wanted[b.pk]
        }
        with transaction.atomic():
            _store_distances(community.pk, point.pk, current, wanted)
            if changes:
                # The allocation ranks points by these distances: re-plan with the new ones.
                from jianjian.couriers.allocation import reallocate

                reallocate(community)
                audit.record(
                    request.user,
                    community,
                    "distances",
                    _("Point %(point)s: distances to buildings changed") % {"point": point},
                    point,
                    changes,
                )
        messages.success(request, _("Saved."))
        return redirect("console:ops-distances", slug=community.slug, pk=point.pk)
    return render(
        request,
        "console/operations/distances.html",
        {"community": community, "point": point, "form": form},
    )


def _store_distances(
    community_id: int, point_id: int, current: dict[int, int], wanted: dict[int, int | None]
) -> None:
    for building_id, distance in wanted.items():
        if distance is None:
            if building_id in current:
                PointDistance.objects.filter(point_id=point_id, building_id=building_id).delete()
        elif current.get(building_id) != distance:
            PointDistance.objects.update_or_create(
                point_id=point_id,
                building_id=building_id,
                defaults={"distance": distance, "community_id": community_id},
            )
