"""API tokens: ``jj_<prefix>_<secret>``; only the SHA-256 of the whole token is stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable

from jianjian import clock
from jianjian.communities.models import Community
from jianjian.couriers.models import ApiToken, Carrier


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(
    name: str,
    *,
    role: str,
    user=None,  # type: ignore[no-untyped-def]
    carrier: Carrier | None = None,
    communities: Iterable[Community] = (),
    can_write: bool = True,
    expires_at: dt.datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is shown once and never stored."""
    prefix = secrets.token_hex(4)
    raw = f"jj_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        name=name[:100],
        prefix=prefix,
        key_hash=hash_token(raw),
        role=role,
        user=user,
        carrier=carrier,
        can_write=can_write,
        expires_at=expires_at,
    )
    token.communities.set(list(communities))
    return token, raw


# How stale ``last_used_at`` may get: it tells an admin which tokens are still in use (to revoke
# the others), which needs minutes, not a write on every request of a busy scanner.
LAST_USED_GRAIN = dt.timedelta(minutes=5)


def find_token(raw: str) -> ApiToken | None:
    """The active token with this secret, its ``last_used_at`` brought up to date."""
    if not raw.startswith("jj_") or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.filter(key_hash=hash_token(raw), active=True)
        .select_related("user", "carrier")
        .first()
    )
    if token is not None:
        now = clock.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_GRAIN:
            token.last_used_at = now
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def is_live(token: ApiToken, now: dt.datetime | None = None) -> bool:
    """Active and not past its expiry: checked on every request, after the lookup (which may
    be cached), so an expired token stops working at once."""
    if not token.active:
        return False
    return token.expires_at is None or (now or clock.now()) < token.expires_at
