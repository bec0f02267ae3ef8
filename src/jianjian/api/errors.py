"""JSON errors with a stable code and a human message in the caller's language."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from jianjian.couriers.manifests import ManifestError
from jianjian.parcels.errors import (
    AmbiguousRecipient,
    CapacityExceeded,
    InvalidTransition,
    NoRoom,
    NotFound,
    ParcelError,
)


class ErrorOut(Schema):
    code: str
    message: str
    # Bad manifest rows, or the fields of a malformed request.
    errors: list[dict[str, Any]] | None = None
    # The carrier codes a tracking number fits, when it fits several (code carrier_ambiguous).
    candidates: list[str] | None = None


# Declared on every operation so the OpenAPI schema documents each answer it can give.
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    413: ErrorOut,
    422: ErrorOut,
}


class Forbidden(Exception):
    """Authenticated, but this role may not do that (a resident writing, a token with no role)."""

    def __init__(self, message: str = "", code: str = "forbidden") -> None:
        super().__init__(message)
        self.message = message or _("Your role may not do this.")
        self.code = code


def too_large_message() -> str:
    return _("The request is larger than %(mb)s MB. Send it in smaller parts.") % {
        "mb": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
    }


def status_of(exc: ParcelError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, InvalidTransition | CapacityExceeded | AmbiguousRecipient | NoRoom):
        return 409
    return 422


def install(api: NinjaAPI) -> None:
    def reply(request: HttpRequest, status: int, code: str, message: str, **extra: Any):  # type: ignore[no-untyped-def]
        return api.create_response(
            request, {"code": code, "message": message, **extra}, status=status
        )

    @api.exception_handler(ParcelError)
    def parcel_error(request: HttpRequest, exc: ParcelError) -> HttpResponse:
        extra = {"candidates": exc.details["candidates"]} if "candidates" in exc.details else {}
        return reply(request, status_of(exc), exc.code, exc.message, **extra)

    @api.exception_handler(ManifestError)
    def manifest_error(request: HttpRequest, exc: ManifestError) -> HttpResponse:
        return reply(request, 422, exc.code, exc.message)

    @api.exception_handler(RequestDataTooBig)
    def too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return reply(request, 413, "too_large", too_large_message())

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return reply(request, 404, "not_found", _("Not found."))

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return reply(
            request,
            401,
            "unauthenticated",
            _("Send a valid token (Authorization: Bearer …) or sign in."),
        )

    @api.exception_handler(Forbidden)
    def forbidden(request: HttpRequest, exc: Forbidden) -> HttpResponse:
        return reply(request, 403, exc.code, exc.message)

    @api.exception_handler(NinjaValidationError)
    def invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "message": str(e.get("msg", ""))}
            for e in exc.errors
        ]
        return reply(request, 422, "invalid_request", _("The request is malformed."), errors=errors)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return reply(request, exc.status_code, "http_error", str(exc))
