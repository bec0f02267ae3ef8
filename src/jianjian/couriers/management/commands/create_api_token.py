"""``jianjian manage create_api_token NAME --role ROLE …``: issue an API token (shown once)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jianjian import clock
from jianjian.communities.models import Community
from jianjian.couriers.models import Carrier, TokenRole
from jianjian.couriers.tokens import create_token


class Command(BaseCommand):
    help = "Issue an API token; its secret is printed once and only its hash is stored."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--role", required=True, choices=TokenRole.values)
        parser.add_argument("--user", help="username the token acts for (not for integration)")
        parser.add_argument("--carrier", help="carrier code (integration tokens)")
        parser.add_argument("--community", action="append", default=[], help="slug; repeatable")
        parser.add_argument("--read-only", action="store_true")
        parser.add_argument(
            "--expires-in-days",
            type=int,
            default=None,
            help="the token stops working after this many days (default: until revoked)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        user = None
        if opts["user"]:
            user = get_user_model().objects.filter(username=opts["user"]).first()
            if user is None:
                raise CommandError(f"No user {opts['user']!r}.")
        elif opts["role"] != TokenRole.INTEGRATION:
            raise CommandError("--user is required for this role.")
        carrier = None
        if opts["carrier"]:
            carrier = Carrier.objects.filter(code=opts["carrier"]).first()
            if carrier is None:
                raise CommandError(f"No carrier {opts['carrier']!r}.")
        elif opts["role"] == TokenRole.INTEGRATION:
            raise CommandError("--carrier is required for an integration token.")
        days = opts["expires_in_days"]
        if days is not None and not 1 <= days <= 3650:
            raise CommandError("--expires-in-days must be between 1 and 3650.")
        communities = list(Community.objects.filter(slug__in=opts["community"]))
        if len(communities) != len(set(opts["community"])):
            raise CommandError("Unknown community in --community.")
        _token, raw = create_token(
            opts["name"],
            role=opts["role"],
            user=user,
            carrier=carrier,
            communities=communities,
            can_write=not opts["read_only"],
            expires_at=clock.now() + dt.timedelta(days=days) if days is not None else None,
        )
        self.stdout.write(raw)
