"""Authentication: bearer tokens for couriers and integrations, the session for the pages."""

from __future__ import annotations

import copy
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import HttpBearer, SessionAuth

from jianjian import clock
from jianjian.access import Principal
from jianjian.api.errors import Forbidden
from jianjian.couriers.models import ApiToken
from jianjian.couriers.tokens import LAST_USED_GRAIN, find_token, hash_token


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        found = lookup_token(token)
        if found is None:
            return None
        if not found.role:
            raise Forbidden(_("This token has no role; an admin must give it one."), "no_role")
        user = found.user
        if found.role != "integration" and (user is None or not user.is_active):
            raise Forbidden(_("This token's user is disabled."), "user_inactive")
        request.user = user  # type: ignore[assignment]
        return Principal(user=user, role=found.role, token=found)


# This process's tokens by key hash, each with the row it was read from. A busy scanner sends
# the same token thousands of times a day; the row changes when an admin edits or revokes it.
_TOKENS: dict[str, tuple[ApiToken, tuple[Any, ...]]] = {}
_TOKENS_MAX = 1000
_ROW_SQL: list[str] = []


def _row_sql() -> str:
    """The token's row and its user's flags, by key hash: one indexed read, built once (not
    compiled by the ORM on each request). ``last_used_at`` is left out: it moves on its own."""
    if not _ROW_SQL:
        table = ApiToken._meta.db_table
        cols = [
            f"t.{connection.ops.quote_name(f.column)}"
            for f in ApiToken._meta.concrete_fields
            if f.name != "last_used_at"
        ]
        _ROW_SQL.append(
            f"SELECT {', '.join(cols)}, u.is_active, u.is_staff, u.is_superuser, u.username "
            f"FROM {table} t LEFT JOIN {get_user_model()._meta.db_table} u ON u.id = t.user_id "
            "WHERE t.key_hash = %s"
        )
    return _ROW_SQL[0]


def lookup_token(raw: str) -> ApiToken | None:
    """:func:`find_token`, served from this process's memory while the token's row is unchanged.

    Each call still reads the row (one indexed query, no ORM), so a token revoked, changed or
    whose user was disabled — by any process, through any path — is refused on its very next
    request on every process; what is saved is the ORM's query building and the objects. A
    token past its ``expires_at`` (when tokens have one) always goes back to ``find_token``.
    Callers get copies, so one request's changes to its user never reach another's.
    """
    if not raw.startswith("jj_") or len(raw) > 200:
        return None
    key = hash_token(raw)
    with connection.cursor() as cursor:
        cursor.execute(_row_sql(), [key])
        row = cursor.fetchone()
    if row is None:
        _TOKENS.pop(key, None)
        return None
    cached = _TOKENS.get(key)
    now = clock.now()
    if cached is None or cached[1] != tuple(row) or _expired(cached[0], now):
        token = find_token(raw)
        if token is None:
            _TOKENS.pop(key, None)
            return None
        if len(_TOKENS) >= _TOKENS_MAX:
            _TOKENS.clear()
        _TOKENS[key] = (token, tuple(row))
    else:
        token = cached[0]
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_GRAIN:
            token.last_used_at = now
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    found = copy.copy(token)
    if token.user is not None:
        found.user = copy.copy(token.user)
    return found


def _expired(token: ApiToken, now: Any) -> bool:
    expires_at = getattr(token, "expires_at", None)
    return expires_at is not None and expires_at <= now


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
