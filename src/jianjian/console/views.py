"""The console's own pages: the section index and the audit log. The sections live in
``people/`` (community, roster, residents, staff) and ``operations/`` (points, couriers and
tokens, disinfection, robots)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from jianjian import access


@login_required
def choose(request: HttpRequest) -> HttpResponse:
    """``/console/``: straight to the admin's community, or a list when they run several."""
    communities = list(access.admin_communities(request.user).order_by("name")[:500])
    if not communities:
        raise Http404
    if len(communities) == 1:
        return redirect("console:index", slug=communities[0].slug)
    return render(request, "console/choose.html", {"communities": communities})


@login_required
def index(request: HttpRequest, slug: str) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    return render(request, "console/index.html", {"community": community})


@login_required
def audit_log(request: HttpRequest, slug: str) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    entries = access.audit_entries(request.user, community).order_by("-at", "-pk")
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "console/audit.html", {"community": community, "page": page})
