"""Authentication: bearer tokens for couriers and integrations, the session for the pages.

A request that sends an ``Authorization`` header is judged by it alone: a wrong, revoked or
expired token answers 401, whatever the method, and never falls back to the session (whose CSRF
check would answer a confusing 403). Without the header the pages' session is used.
"""

from __future__ import annotations

import copy
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer, SessionAuth

from jianjian import clock
from jianjian.access import Principal
from jianjian.api.errors import Forbidden
from jianjian.communities.models import AccessVersion
from jianjian.couriers.models import ApiToken
from jianjian.couriers.tokens import LAST_USED_GRAIN, find_token, hash_token, is_live
from jianjian.roles import Role


def lookup(raw: str) -> ApiToken | None:
    """The active token with this secret: the one place a token is looked up."""
    return lookup_token(raw)


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
    return Principal(
        user=user,
        role=Role(found.role),
        token=found,
        access_version=getattr(found, "access_version", None),
    )


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
        # Last, the access version (communities.AccessVersion): what the request's point check
        # may take from this process's memory (access.api_scan_point).
        versions = AccessVersion._meta.db_table
        _ROW_SQL.append(
            f"SELECT {', '.join(cols)}, u.is_active, u.is_staff, u.is_superuser, u.username, "
            f"(SELECT a.version FROM {versions} a WHERE a.id = 1) "
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
    row, access_version = tuple(row[:-1]), row[-1]
    cached = _TOKENS.get(key)
    now = clock.now()
    if cached is None or cached[1] != row or _expired(cached[0], now):
        token = find_token(raw)
        if token is None:
            _TOKENS.pop(key, None)
            return None
        if len(_TOKENS) >= _TOKENS_MAX:
            _TOKENS.clear()
        _TOKENS[key] = (token, row)
    else:
        token = cached[0]
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_GRAIN:
            token.last_used_at = now
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    found = copy.copy(token)
    if token.user is not None:
        found.user = copy.copy(token.user)
    found.access_version = access_version  # type: ignore[attr-defined]
    return found


def _expired(token: ApiToken, now: Any) -> bool:
    expires_at = getattr(token, "expires_at", None)
    return expires_at is not None and expires_at <= now


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
