"""The visitor's address behind trusted reverse proxies (nginx, Caddy, a cloud load balancer).

Behind a proxy every request comes from the proxy's address: the sign-in code throttle and the
staff login lockout, which count per address, would then lump every visitor together, and one
careless resident could lock the whole community out of signing in. Each proxy appends the
address it was reached from to ``X-Forwarded-For``; with ``JIANJIAN_PROXY_COUNT`` = N proxies of
our own in front, the N-th entry from the right is the one the outermost of them saw, and is the
visitor's. Entries further left were written by the client and are never trusted.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse


def visitor_address(forwarded_for: str, hops: int) -> str | None:
    """The address ``hops`` trusted proxies vouch for, or None if the header cannot say."""
    chain = [part.strip() for part in forwarded_for.split(",") if part.strip()]
    if hops < 1 or len(chain) < hops:
        return None  # reached us without passing every proxy: keep the peer's address
    candidate = chain[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


class ForwardedForMiddleware:
    """Sets ``REMOTE_ADDR`` to the visitor's address, for every later reader (throttles, axes)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if not settings.PROXY_COUNT:
            raise MiddlewareNotUsed  # served directly: the peer is the visitor
        self.get_response = get_response
        self.hops = settings.PROXY_COUNT

    def __call__(self, request: HttpRequest) -> HttpResponse:
        address = visitor_address(request.META.get("HTTP_X_FORWARDED_FOR", ""), self.hops)
        if address is not None:
            request.META["REMOTE_ADDR"] = address
        return self.get_response(request)
