"""Authentication: bearer tokens for couriers and integrations, the session for the pages.

A request that sends an ``Authorization`` header is judged by it alone: a wrong, revoked or
expired token answers 401, whatever the method, and never falls back to the session (whose CSRF
check would answer a confusing 403). Without the header the pages' session is used.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer, SessionAuth

from jianjian.access import Principal
from jianjian.api.errors import Forbidden
from jianjian.couriers.models import ApiToken
from jianjian.couriers.tokens import find_token, is_live
from jianjian.roles import Role


def lookup(raw: str) -> ApiToken | None:
    """The active token with this secret: the one place a token is looked up."""
    return find_token(raw)


def _bearer(request: HttpRequest) -> str | None:
    """The token of the ``Authorization`` header ("" for a malformed one), or None without it."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _sep, raw = header.strip().partition(" ")
    return raw.strip() if scheme.lower() == "bearer" else ""


def _token_principal(raw: str) -> Principal:
    """The principal of a bearer token; AuthenticationError (401) or Forbidden (403)."""
    found = lookup(raw) if raw else None
    if found is None or not is_live(found):
        raise AuthenticationError
    if not found.role:
        raise Forbidden(_("This token has no role; an admin must give it one."), "no_role")
    user = found.user
    if found.role != Role.INTEGRATION and (user is None or not user.is_active):
        raise Forbidden(_("This token's user is disabled."), "user_inactive")
    return Principal(user=user, role=Role(found.role), token=found)


class TokenAuth(HttpBearer):
    def __call__(self, request: HttpRequest) -> Principal | None:
        raw = _bearer(request)
        if raw is None:
            return None  # no header: the session may authenticate
        return self.authenticate(request, raw)

    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        who = _token_principal(token)
        request.user = who.user  # type: ignore[assignment]
        return who


class Session(SessionAuth):
    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if "Authorization" in request.headers:
            return None  # judged by the token alone
        if request.user.is_authenticated and request.user.is_active:
            return Principal.of_user(request.user)
        return None


def caller(request: HttpRequest) -> Principal | None:
    """Who sends this request, without answering it: the token's principal, or the signed-in
    person's; None for a caller the API refuses (for :mod:`.idempotency`, which must not store
    anything for them)."""
    raw = _bearer(request)
    if raw is not None:
        try:
            return _token_principal(raw)
        except (AuthenticationError, Forbidden):
            return None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active:
        return Principal.of_user(user)
    return None


def principal(request: HttpRequest) -> Principal:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def writer(request: HttpRequest) -> Principal:
    """The caller, if they may write at all (residents and read-only tokens may not)."""
    who = principal(request)
    if not who.can_write:
        if who.token is not None and not who.token.can_write:
            raise Forbidden(_("This token is read-only."), "read_only")
        raise Forbidden()  # a role that only reads
    return who
