"""The console's community, flats and residents pages. Thin: who may see what comes from
:mod:`jianjian.access`, each change writes its audit entry in the change's transaction."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jianjian import access, clock
from jianjian.communities.models import Building, Community
from jianjian.console import audit
from jianjian.console.people.forms import BuildingForm, CommunityForm, FlatForm, ResidentForm

PAGE_SIZE = 50


def _page(request: HttpRequest, items: QuerySet[Any]) -> Any:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


@login_required
def community(request: HttpRequest, slug: str) -> HttpResponse:
    item = access.console_community_for(request.user, slug)
    form = CommunityForm(request.POST or None, instance=item)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            changes = audit.changes_of(form)
            saved = form.save()
            if changes:
                audit.record(
                    request.user,
                    saved,
                    "update",
                    _("Community profile and policy changed"),
                    saved,
                    changes,
                )
        messages.success(request, _("Saved."))
        return redirect("console:community", slug=saved.slug)
    return render(
        request,
        "console/people/community.html",
        {"community": item, "form": form},
        status=422 if form.errors else 200,
    )


# --- flats and buildings ---------------------------------------------------------------------


def _flat_search(items: QuerySet[Any], q: str) -> QuerySet[Any]:
    q = q.strip().upper()
    return items.filter(code__startswith=q) if q else items


@login_required
def flats(request: HttpRequest, slug: str) -> HttpResponse:
    item = access.console_community_for(request.user, slug)
    q = request.GET.get("q", "")
    form = FlatForm(item, request.POST or None)
    if request.method == "POST" and form.is_valid():
        flat = _save_flat(request, item, form, None)
        messages.success(request, _("Flat %(flat)s added.") % {"flat": flat.code})
        return redirect("console:flats", slug=slug)
    rows = _flat_search(access.console_flats(request.user, item), q).annotate(
        living=Count("residents", filter=Q(residents__active=True))
    )
    context = {
        "community": item,
        "form": form,
        "q": q,
        "page": _page(request, rows.select_related("building").order_by("code")),
        "buildings": Building.objects.filter(community=item).order_by("number")[:200],
    }
    return render(request, "console/people/flats.html", context, status=422 if form.errors else 200)


def _save_flat(request: HttpRequest, item: Community, form: FlatForm, flat: Any) -> Any:
    from jianjian.communities.models import Flat

    number, entrance, flat_number = form.cleaned_data["code"].split("-")
    with transaction.atomic():
        building, _created = Building.objects.get_or_create(community=item, number=number)
        before = flat.code if flat is not None else None
        flat = flat or Flat(community=item)
        flat.building, flat.entrance, flat.number = building, entrance, flat_number
        flat.save()
        audit.record(
            request.user,
            item,
            "update" if before else "create",
            _("Flat %(flat)s saved") % {"flat": flat.code},
            flat,
            {"code": [before, flat.code]},
        )
    return flat


@login_required
def flat_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    item = access.console_community_for(request.user, slug)
    flat = access.console_flat_for(request.user, item, pk)
    form = FlatForm(item, request.POST or None, flat=flat)
    if request.method == "POST" and form.is_valid():
        _save_flat(request, item, form, flat)
        messages.success(request, _("Saved."))
        return redirect("console:flats", slug=slug)
    residents = flat.residents.order_by("-active", "name")[:50]
    context = {"community": item, "form": form, "flat": flat, "residents": residents}
    return render(
        request, "console/people/flat_edit.html", context, status=422 if form.errors else 200
    )


@login_required
def building_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    item = access.console_community_for(request.user, slug)
    building = access.console_building_for(request.user, item, pk)
    form = BuildingForm(request.POST or None, initial={"name": building.name})
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            before, building.name = building.name, form.cleaned_data["name"].strip()
            building.save(update_fields=["name"])
            audit.record(
                request.user,
                item,
                "update",
                _("Building %(number)s renamed") % {"number": building.number},
                building,
                {"name": [before, building.name]},
            )
        messages.success(request, _("Saved."))
        return redirect("console:flats", slug=slug)
    context = {"community": item, "form": form, "building": building}
    return render(request, "console/people/building_edit.html", context)


# --- residents -------------------------------------------------------------------------------


def _resident_search(items: QuerySet[Any], q: str, status: str) -> QuerySet[Any]:
    if status == "moved":
        items = items.filter(active=False)
    elif status != "all":
        items = items.filter(active=True)
    q = q.strip()
    if not q:
        return items
    digits = "".join(ch for ch in q if ch.isdigit())
    where = Q(name__icontains=q) | Q(flat__code__startswith=q.upper())
    if digits and len(digits) == len(q):
        where |= Q(phone__endswith=digits)
    return items.filter(where)


@login_required
def residents(request: HttpRequest, slug: str) -> HttpResponse:
    item = access.console_community_for(request.user, slug)
    q, status = request.GET.get("q", ""), request.GET.get("status", "active")
    rows = _resident_search(access.console_residents(request.user, item), q, status)
    context = {
        "community": item,
        "q": q,
        "status": status,
        "page": _page(request, rows.select_related("flat").order_by("flat__code", "name")),
    }
    return render(request, "console/people/residents.html", context)


@login_required
def resident_add(request: HttpRequest, slug: str) -> HttpResponse:
    item = access.console_community_for(request.user, slug)
    form = ResidentForm(item, request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            resident = form.save()
            audit.record(
                request.user,
                item,
                "create",
                _("Resident %(name)s added to %(flat)s")
                % {"name": resident.name, "flat": resident.flat.code},
                resident,
            )
        messages.success(request, _("Resident added."))
        return redirect("console:residents", slug=slug)
    return render(
        request,
        "console/people/resident_edit.html",
        {"community": item, "form": form},
        status=422 if form.errors else 200,
    )


@login_required
def resident_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    item = access.console_community_for(request.user, slug)
    resident = access.console_resident_for(request.user, item, pk)
    form = ResidentForm(item, request.POST or None, instance=resident)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            changes = audit.changes_of(form)
            saved = form.save()
            if changes:
                audit.record(
                    request.user,
                    item,
                    "update",
                    _("Resident %(name)s changed") % {"name": saved.name},
                    saved,
                    changes,
                )
        messages.success(request, _("Saved."))
        return redirect("console:residents", slug=slug)
    context = {"community": item, "form": form, "resident": resident}
    return render(
        request, "console/people/resident_edit.html", context, status=422 if form.errors else 200
    )


@login_required
@require_POST
def resident_active(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Moved out (deactivate) or back (reactivate); a resident is never deleted."""
    item = access.console_community_for(request.user, slug)
    resident = access.console_resident_for(request.user, item, pk)
    active = request.POST.get("active") == "1"
    if resident.active != active:
        with transaction.atomic():
            resident.active = active
            resident.moved_out_at = None if active else clock.now()
            resident.save(update_fields=["active", "moved_out_at"])
            audit.record(
                request.user,
                item,
                "reactivate" if active else "deactivate",
                (
                    _("Resident %(name)s lives here again")
                    if active
                    else _("Resident %(name)s moved out")
                )
                % {"name": resident.name},
                resident,
                {"active": [not active, active]},
            )
    messages.success(request, _("Saved."))
    return redirect("console:resident_edit", slug=slug, pk=resident.pk)
