"""``Idempotency-Key`` on POST, with Stripe's semantics.

The first request with a key runs and its answer (status, body) is stored with a hash of the
request. A retry with the same key and the same request gets that answer replayed; the same key
with a different request gets 422. While the first is still running, a retry gets 409. Keys are
scoped to the caller (the token, or the signed-in user), so two callers never collide. Server
errors (5xx) are not stored: the client may retry them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from jianjian.api.errors import too_large_message
from jianjian.couriers.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY = 255


def _scope(request: HttpRequest) -> str:
    auth = request.headers.get("Authorization", "")
    if auth:
        return hashlib.sha256(auth.encode()).hexdigest()
    user = getattr(request, "user", None)
    who = f"user:{user.pk}" if user is not None and user.is_authenticated else "anonymous"
    return hashlib.sha256(who.encode()).hexdigest()


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
        try:
            scope, digest = _scope(request), _request_hash(request)
        except RequestDataTooBig:  # read here first, before the API's own error handlers
            return _error(413, "too_large", too_large_message())
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(scope=scope, key=key, request_hash=digest)
        except IntegrityError:
            return _replay(scope, key, digest)
        response = view(request, *args, **kwargs)
        if response.status_code >= 500:
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
