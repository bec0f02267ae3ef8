"""``Idempotency-Key`` on POST, with Stripe's semantics.

The first request with a key runs and its answer (status, body) is stored with a hash of the
request. A retry with the same key and the same request gets that answer replayed; the same key
with a different request gets 422. While the first is still running, a retry gets 409 (for at
most :data:`LEASE`: a record left running by a killed process is then let go). Keys are
scoped to the caller (the token, or the signed-in user), so two callers never collide. Server
errors (5xx) are not stored: the client may retry them.

Nothing is stored before the caller is authenticated: a request without a valid token or
session runs as if it carried no key (and gets its 401), and a key is scoped to the token or
user, never to the raw header. A record lives 24 hours (:data:`TTL`); after that the key is
free again, and the notification worker's sweep deletes old records (:func:`prune`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from functools import wraps

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from jianjian import clock
from jianjian.api.auth import caller
from jianjian.api.errors import too_large_message
from jianjian.couriers.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY = 255
TTL = dt.timedelta(hours=24)
# A request still "running" after this long died with its process (a killed web node): its
# record is let go, so the client's retry runs instead of getting 409 for a day. Longer than
# any request the API serves (the largest manifest imports in seconds); the services stay
# idempotent themselves, so even a slow original and its retry record one change.
LEASE = dt.timedelta(minutes=2)
# Answers that say the caller was not let in are not kept: a retry must be authenticated anew.
NOT_KEPT = frozenset({401, 403})


def _scope(request: HttpRequest) -> str | None:
    """Who sent the request, once authenticated: ``token:<id>`` or ``user:<id>``; None for a
    caller the API will refuse."""
    who = caller(request)
    if who is None:
        return None
    name = f"token:{who.token.pk}" if who.token is not None else f"user:{who.user.pk}"
    return hashlib.sha256(name.encode()).hexdigest()


def prune(now: dt.datetime | None = None) -> int:
    """Delete the records older than :data:`TTL`; the number deleted."""
    cutoff = (now or clock.now()) - TTL
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def _request_hash(request: HttpRequest) -> str:
    h = hashlib.sha256(request.method.encode() if request.method else b"")
    h.update(request.get_full_path().encode())
    h.update(b"\0")
    h.update(request.body)
    return h.hexdigest()


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status)


def idempotent(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        key = request.headers.get(HEADER, "")
        if request.method != "POST" or not key:
            return view(request, *args, **kwargs)
        if len(key) > MAX_KEY:
            return _error(400, "idempotency_key_invalid", _("The Idempotency-Key is too long."))
        scope = _scope(request)
        if scope is None:
            return view(request, *args, **kwargs)
        try:
            digest = _request_hash(request)
        except RequestDataTooBig:  # read here first, before the API's own error handlers
            return _error(413, "too_large", too_large_message())
        now = clock.now()
        IdempotencyKey.objects.filter(  # an expired or abandoned record frees its key
            Q(created_at__lt=now - TTL) | Q(status__isnull=True, created_at__lt=now - LEASE),
            scope=scope,
            key=key,
        ).delete()
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(scope=scope, key=key, request_hash=digest)
        except IntegrityError:
            return _replay(scope, key, digest)
        response = view(request, *args, **kwargs)
        if response.status_code >= 500 or response.status_code in NOT_KEPT:
            IdempotencyKey.objects.filter(pk=row.pk).delete()
            return response
        IdempotencyKey.objects.filter(pk=row.pk).update(
            status=response.status_code,
            content_type=response.get("Content-Type", "application/json"),
            body=bytes(response.content),
        )
        return response

    return wrapper


def _replay(scope: str, key: str, digest: str) -> HttpResponse:
    row = IdempotencyKey.objects.filter(scope=scope, key=key).first()
    if row is None:  # removed after a server error meanwhile: let the client retry
        return _error(409, "idempotency_retry", _("Retry this request."))
    if row.request_hash != digest:
        return _error(
            422,
            "idempotency_key_reused",
            _("This Idempotency-Key was used with a different request."),
        )
    if row.status is None:
        return _error(
            409,
            "idempotency_in_progress",
            _("A request with this Idempotency-Key is still running; retry shortly."),
        )
    response = HttpResponse(bytes(row.body), status=row.status, content_type=row.content_type)
    response["Idempotent-Replayed"] = "true"
    return response


def wrap_patterns(patterns: list) -> list:  # type: ignore[type-arg]
    """Wrap every API view of ``patterns`` (ninja's URL patterns) with :func:`idempotent`."""
    for pattern in patterns:
        pattern.callback = idempotent(pattern.callback)
    return patterns
