"""``jianjian restore FILE``: verify a backup and restore it into an empty database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jianjian.ops import backup, readiness
from jianjian.parcels.fold import check


class Command(BaseCommand):
    help = "Verify a backup's checksum and restore it into an empty data directory or database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="a jianjian-*.sqlite3 or .pgdump backup")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            target = backup.restore(options["file"])
        except (backup.BackupError, OSError) as exc:
            raise CommandError(f"not restored: {exc}") from None
        self.stdout.write(self.style.SUCCESS(f"restored {options['file'].name} into {target}"))
        missing = readiness.unapplied_migrations()
        if missing:
            self.stdout.write(
                f"this backup is from an older release ({len(missing)} migrations to apply): "
                "run `jianjian migrate`, then `jianjian check`"
            )
            return
        # The restored record must fold cleanly, exactly as `jianjian check` would say.
        report = check(None)
        summary = f"{report.parcels} parcels, {report.events} custody events, {len(report.problems)} differences"
        if report.problems:
            raise CommandError(f"restored, but `jianjian check` finds differences: {summary}")
        self.stdout.write(f"check: {summary}")
