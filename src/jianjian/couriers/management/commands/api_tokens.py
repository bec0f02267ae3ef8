"""``jianjian manage api_tokens [--revoke PREFIX]``: list the API tokens, or revoke one."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jianjian import clock
from jianjian.couriers.models import ApiToken
from jianjian.couriers.tokens import is_live


class Command(BaseCommand):
    help = "List API tokens (prefix, name, role, state, expiry, last use), or revoke one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--revoke", metavar="PREFIX", help="revoke the token with this prefix")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["revoke"]:
            revoked = ApiToken.objects.filter(prefix=opts["revoke"]).update(active=False)
            if not revoked:
                raise CommandError(f"No token with prefix {opts['revoke']!r}.")
            self.stdout.write(f"revoked {opts['revoke']}")
            return
        now = clock.now()
        for token in ApiToken.objects.order_by("created_at"):
            state = "live" if is_live(token, now) else ("expired" if token.active else "revoked")
            expires = token.expires_at.isoformat() if token.expires_at else "never"
            used = token.last_used_at.isoformat() if token.last_used_at else "never"
            self.stdout.write(
                f"{token.prefix}  {token.name}  {token.role or '-'}  {state}  "
                f"expires {expires}  last used {used}"
            )
