"""The console's queue of phones asking to be linked to a flat: approve (adds the roster row)
or refuse. Thin: access finds the community and the request, residents.links decides."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jianjian import access
from jianjian.communities.models import Community
from jianjian.communities.phones import national_digits
from jianjian.parcels.errors import InvalidInput
from jianjian.parcels.models import Parcel, ParcelState
from jianjian.residents import links
from jianjian.residents.models import LinkState

RECENT = 50


@login_required
@require_GET
def link_list(request: HttpRequest, slug: str) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    queue = access.link_requests(request.user, community)
    pending = list(queue.filter(state=LinkState.PENDING).order_by("created_at", "pk")[:200])
    waiting = _waiting_counts(community, [p.phone for p in pending])
    for item in pending:
        item.national = national_digits(item.phone)  # type: ignore[attr-defined]
        item.waiting = waiting.get(item.phone, 0)  # type: ignore[attr-defined]
    decided = list(
        queue.exclude(state=LinkState.PENDING)
        .select_related("decided_by", "resident__flat")
        .order_by("-decided_at", "-pk")[:RECENT]
    )
    context = {"community": community, "pending": pending, "decided": decided}
    return render(request, "console/links/list.html", context)


def _waiting_counts(community: Community, phones: list[str]) -> dict[str, int]:
    """How many parcels wait for each asking phone: what the office weighs before approving."""
    counts: dict[str, int] = {}
    rows = Parcel.objects.filter(
        community=community,
        recipient__isnull=True,
        recipient_phone__in=phones,
        state__in=(ParcelState.ANNOUNCED, ParcelState.AT_POINT),
    ).values_list("recipient_phone", flat=True)
    for phone in rows:
        counts[phone] = counts.get(phone, 0) + 1
    return counts


@login_required
@require_POST
def link_decide(request: HttpRequest, slug: str, pk: int, verb: str) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    link = access.link_request_for(request.user, community, pk)
    try:
        if verb == "approve":
            resident = links.approve(link, request.user, request.POST.get("flat", ""))
            messages.success(
                request,
                _("%(name)s is now a resident of flat %(flat)s.")
                % {"name": resident.name, "flat": resident.flat.code},
            )
        elif verb == "refuse":
            links.refuse(link, request.user)
            messages.success(request, _("Refused."))
        else:
            messages.error(request, _("Unknown action."))
    except InvalidInput as exc:
        messages.error(request, exc.message)
    return redirect("console:links", slug=community.slug)
