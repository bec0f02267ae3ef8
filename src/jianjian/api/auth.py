"""Authentication: bearer tokens for couriers and integrations, the session for the pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import HttpBearer, SessionAuth

from jianjian.access import Principal
from jianjian.api.errors import Forbidden
from jianjian.couriers.tokens import find_token


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        found = find_token(token)
        if found is None:
            return None
        if not found.role:
            raise Forbidden(_("This token has no role; an admin must give it one."), "no_role")
        user = found.user
        if found.role != "integration" and (user is None or not user.is_active):
            raise Forbidden(_("This token's user is disabled."), "user_inactive")
        request.user = user  # type: ignore[assignment]
        return Principal(user=user, role=found.role, token=found)


class Session(SessionAuth):
    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if request.user.is_authenticated and request.user.is_active:
            return Principal(user=request.user, role="session")
        return None


def principal(request: HttpRequest) -> Principal:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def writer(request: HttpRequest) -> Principal:
    """The caller, if they may write at all (residents and read-only tokens may not)."""
    who = principal(request)
    if not who.can_write:
        raise Forbidden(_("This token is read-only."), "read_only")
    return who
