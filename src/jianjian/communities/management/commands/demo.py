"""``jianjian demo``: load the demo community once and print how to try it.

On a database without tables it creates them first (a fresh install); on one with some
migrations missing it names the command to run instead of upgrading someone's data by surprise.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import OperationalError

from jianjian.communities.demo import (
    LOGINS,
    PASSWORD,
    SLUG,
    UNROSTERED_PHONE,
    load_demo,
    roster_phone_to_try,
)
from jianjian.communities.models import Community
from jianjian.communities.phones import national_digits


class Command(BaseCommand):
    help = "Load the demo community (时代花园) with points, residents, couriers and parcels."

    def handle(self, *args: Any, **options: Any) -> None:
        self._ensure_tables()
        community = Community.objects.filter(slug=SLUG).first()
        if community is not None:
            self.stdout.write("The demo community is loaded already.")
        else:
            load_demo()
            community = Community.objects.get(slug=SLUG)
            self.stdout.write(self.style.SUCCESS("Demo community 时代花园 loaded."))
        self._print_guide(community)

    def _ensure_tables(self) -> None:
        connection = connections[DEFAULT_DB_ALIAS]
        try:
            tables = set(connection.introspection.table_names())
            executor = MigrationExecutor(connection)
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except OperationalError as exc:
            raise CommandError(f"The database cannot be reached: {exc}") from None
        if not pending:
            return
        if Community._meta.db_table not in tables:
            self.stdout.write("The database has no tables yet: creating them (jianjian migrate).")
            call_command("migrate", interactive=False, verbosity=0)
            return
        raise CommandError(
            "The database needs an upgrade before the demo can load. Run: jianjian migrate"
        )

    def _print_guide(self, community: Community) -> None:
        write = self.stdout.write
        write(f"\nDemo logins at /login/ (password for all: {PASSWORD}):")
        for login in LOGINS:
            write(f"  {login.username:<12} {login.role}")
        write("\nResidents sign in with their phone and a one-time code at /me/signin/:")
        roster = roster_phone_to_try(community)
        if roster:
            write(
                f"  {national_digits(roster):<12} a resident on the roster, with a parcel waiting"
            )
        write(
            f"  {national_digits(UNROSTERED_PHONE):<12} a phone NOT on the roster, with parcels "
            "waiting (it may ask to be added to a flat)"
        )
        if settings.SIGNIN_CODE_CHANNEL == "log":
            write(
                f"\nSign-in codes and every other message are written to {settings.NOTIFY_LOG_FILE}"
                "\n(by the worker that `jianjian serve` runs). Custody events are logged to "
                f"{settings.CUSTODY_LOG}."
            )
