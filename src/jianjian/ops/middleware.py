"""Request id, one JSON log line and the Prometheus counts for every request."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

from jianjian.ops import metrics
from jianjian.ops.logs import request_id, request_log

_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def _route(request: HttpRequest) -> str:
    """The URL pattern, not the path: ``parcel/<int:pk>/`` keeps metric labels few."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return "/" + match.route
    if request.path.startswith("/static/"):
        return "/static/"
    return "unmatched"


class RequestMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Keep a caller's id (a proxy or a client retrying) so its logs and ours line up.
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        token = request_id.set(rid)
        request.request_id = rid  # type: ignore[attr-defined]
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            elapsed = time.perf_counter() - started
            route = _route(request)
            response["X-Request-ID"] = rid
            metrics.observe(route, request.method or "", response.status_code, elapsed)
            # Only a user already loaded: loading one now could hit a database that is down.
            user = getattr(request, "_cached_user", None)
            request_log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": round(elapsed * 1000, 2),
                    "user": user.get_username() if user is not None else "",
                    "fault": getattr(response, "fault", ""),
                },
            )
            return response
        finally:
            request_id.reset(token)


def _has_nul(request: HttpRequest) -> bool:
    """A NUL character in the path, the query string or a submitted form's fields."""
    if "\x00" in request.path:
        return True
    for data in (request.GET, request.POST):  # a JSON body is not parsed here: its schema checks
        for values in data.lists():
            if any("\x00" in v for v in (values[0], *values[1])):
                return True
    return False


class RefuseNulMiddleware:
    """Answer 400 to a request carrying a NUL character (``%00``) outside a file.

    No real input has one, and PostgreSQL cannot store or even compare text holding it: a search
    for ``q=%00`` or a path with ``%00`` was a server error. Runs after the locale is chosen, so
    the message is in the caller's language.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not _has_nul(request):
            return self.get_response(request)
        message = _("The request contains a NUL character; remove it and try again.")
        if request.path.startswith("/api/"):
            return JsonResponse({"code": "invalid_request", "message": message}, status=400)
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
