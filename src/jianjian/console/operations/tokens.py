"""Console pages of the community's API tokens: the list, issuing one (its secret shown once,
in the answer to the form, and stored nowhere but as a hash), and revoking one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from jianjian import access
from jianjian.console import audit
from jianjian.console.operations.forms import TokenForm
from jianjian.couriers.models import TokenRole
from jianjian.couriers.tokens import create_token


@login_required
def token_list(request: HttpRequest, slug: str) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    tokens = (
        access.console_tokens(request.user, community)
        .select_related("user", "carrier")
        .order_by("-active", "-created_at")
    )
    return render(
        request, "console/operations/tokens.html", {"community": community, "tokens": tokens}
    )


@never_cache
@login_required
def token_issue(request: HttpRequest, slug: str) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    form = TokenForm(request.POST or None, community=community)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        role = data["role"]
        user = None
        if role == TokenRole.COURIER:
            user = data["courier"].user
        elif role == TokenRole.CLERK:
            user = data["clerk"]
        with transaction.atomic():
            token, raw = create_token(
                data["name"],
                role=role,
                user=user,
                carrier=data["carrier"] if role == TokenRole.INTEGRATION else None,
                communities=[community],
                can_write=not data["read_only"],
            )
            audit.record(
                request.user,
                community,
                "issue",
                _("API token %(token)s issued") % {"token": token},
                token,
                {
                    "role": [None, role],
                    "for": [None, str(user or token.carrier or "")],
                    "read_only": [None, data["read_only"]],
                },
            )
        # The only time the secret leaves the server: this answer, never cached.
        return render(
            request,
            "console/operations/token_issued.html",
            {"community": community, "token": token, "secret": raw},
        )
    return render(
        request, "console/operations/token_form.html", {"community": community, "form": form}
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    token = access.console_token_for(request.user, community, pk)
    if token.active:
        audit.deactivate(
            request.user,
            community,
            token,
            "revoke",
            _("API token %(token)s revoked") % {"token": token},
        )
        messages.success(request, _("Revoked: the token no longer works."))
    return redirect("console:ops-tokens", slug=community.slug)
