"""Staff and couriers pages: invite (a one-time link shown once to the admin), new link,
deactivate. The rules live in :mod:`jianjian.communities.invitations`."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jianjian import access
from jianjian.communities import invitations
from jianjian.communities.models import Community
from jianjian.console.people.forms import CourierInviteForm, StaffInviteForm


def _link(request: HttpRequest, token: str) -> str:
    return request.build_absolute_uri(reverse("invitation", args=[token]))


def _fail(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
    else:
        form.add_error(None, exc)


def _staff_context(community: Community, user: Any) -> dict[str, Any]:
    members = list(
        access.console_staff(user, community)
        .select_related("user")
        .prefetch_related("points")
        .order_by("role", "user__username")
    )
    waiting = invitations.pending(community, [m.user_id for m in members])
    return {"community": community, "members": [(m, waiting.get(m.user_id)) for m in members]}


@login_required
def staff(request: HttpRequest, slug: str) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    form = StaffInviteForm(community, request.POST or None)
    link = ""
    if request.method == "POST" and form.is_valid():
        try:
            membership, token = invitations.invite_staff(
                community, request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            _fail(form, exc)
        else:
            link = _link(request, token)
            form = StaffInviteForm(community)
            messages.success(
                request,
                _("%(user)s invited. Send them the link below; it works once, for 7 days.")
                % {"user": membership.user.get_username()},
            )
    context = _staff_context(community, request.user) | {"form": form, "link": link}
    return render(request, "console/people/staff.html", context, status=422 if form.errors else 200)


@login_required
@require_POST
def staff_link(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    member = access.console_member_for(request.user, community, pk)
    token = invitations.new_link(community, request.user, member.user, member.role)
    context = _staff_context(community, request.user) | {
        "form": StaffInviteForm(community),
        "link": _link(request, token),
    }
    return render(request, "console/people/staff.html", context)


@login_required
@require_POST
def staff_deactivate(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    member = access.console_member_for(request.user, community, pk)
    try:
        invitations.deactivate_member(community, request.user, member)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Deactivated."))
    return redirect("console:staff", slug=slug)


def _couriers_context(community: Community, user: Any) -> dict[str, Any]:
    couriers = list(
        access.console_couriers(user, community)
        .select_related("carrier", "user")
        .order_by("carrier__code", "name")
    )
    waiting = invitations.pending(community, [c.user_id for c in couriers if c.user_id])
    rows = [(c, waiting.get(c.user_id or 0)) for c in couriers]
    by_carrier = [
        (carrier, list(group)) for carrier, group in groupby(rows, lambda r: r[0].carrier)
    ]
    return {"community": community, "by_carrier": by_carrier}


@login_required
def couriers(request: HttpRequest, slug: str) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    form = CourierInviteForm(request.POST or None)
    link = ""
    if request.method == "POST" and form.is_valid():
        try:
            courier, token = invitations.invite_courier(
                community, request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            _fail(form, exc)
        else:
            form = CourierInviteForm()
            if token:
                link = _link(request, token)
                messages.success(
                    request,
                    _("%(user)s invited. Send them the link below; it works once, for 7 days.")
                    % {"user": courier.name},
                )
            else:
                messages.success(
                    request,
                    _(
                        "%(user)s has an account already: they now serve this community and "
                        "sign in as before."
                    )
                    % {"user": courier.name},
                )
    context = _couriers_context(community, request.user) | {"form": form, "link": link}
    return render(
        request, "console/people/couriers.html", context, status=422 if form.errors else 200
    )


@login_required
@require_POST
def courier_link(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    courier = access.console_courier_for(request.user, community, pk)
    if courier.user is None:
        messages.error(request, _("This courier has no account to sign in with."))
        return redirect("console:staff_couriers", slug=slug)
    token = invitations.new_link(community, request.user, courier.user, invitations.COURIER)
    context = _couriers_context(community, request.user) | {
        "form": CourierInviteForm(),
        "link": _link(request, token),
    }
    return render(request, "console/people/couriers.html", context)


@login_required
@require_POST
def courier_deactivate(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    courier = access.console_courier_for(request.user, community, pk)
    invitations.deactivate_courier(community, request.user, courier)
    messages.success(request, _("Deactivated."))
    return redirect("console:staff_couriers", slug=slug)
