"""Health, readiness, metrics and the friendly answer to a database fault."""

from __future__ import annotations

import hmac
import sys

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.defaults import server_error as django_server_error

from jianjian import access
from jianjian.ops import faults, metrics, readiness


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and answering. Touches nothing else, so it never lies about that."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when every check passes, else 503; which check failed and why only for the metrics
    token or a superuser."""
    checks = readiness.run_checks()
    ready = all(c.ok for c in checks)
    detailed = _bearer_ok(request, settings.METRICS_TOKEN) or access.can_read_metrics(request.user)
    return JsonResponse(readiness.body(checks, detailed), status=200 if ready else 503)


def _bearer_ok(request: HttpRequest, token: str) -> bool:
    if not token:
        return False
    header = request.headers.get("Authorization", "")
    scheme, _sep, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format, for superusers or whoever holds ``JIANJIAN_METRICS_TOKEN``."""
    allowed = _bearer_ok(request, settings.METRICS_TOKEN)
    if not allowed:
        allowed = access.can_read_metrics(getattr(request, "user", None))
    if not allowed:
        response = JsonResponse({"error": "forbidden", "message": _("Not allowed.")}, status=403)
        response["WWW-Authenticate"] = "Bearer"
        return response
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)


def _wants_json(request: HttpRequest) -> bool:
    path = request.path
    return path.startswith(
        ("/api/", "/ops/", "/readyz", "/metrics")
    ) or "application/json" in request.headers.get("Accept", "")


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a database or disk fault gets a 503 that says what happened; a bug gets
    Django's ordinary 500. Runs inside the exception handler, so ``sys.exc_info`` is the cause."""
    exc = sys.exc_info()[1]
    kind = faults.classify(exc) if exc is not None else None
    if kind is None:
        return django_server_error(request)
    text = faults.message(kind)
    rid = getattr(request, "request_id", "")
    response: HttpResponse
    if _wants_json(request):
        response = JsonResponse({"error": kind, "message": text, "request_id": rid}, status=503)
    else:
        # No request context: the base template would ask the (unreachable) database who is
        # signed in.
        html = render_to_string(
            "ops/unavailable.html", {"message": text, "request_id": rid, "kind": kind}
        )
        response = HttpResponse(html, status=503)
    response["Retry-After"] = "30"
    response.fault = kind  # type: ignore[attr-defined]
    return response
