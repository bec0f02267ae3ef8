"""``jianjian backup [--to DIR]``: a consistent, checksummed copy of the database, then retention."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jianjian.ops import backup


class Command(BaseCommand):
    help = "Back up the database (safe while the server runs) and prune old backups."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", type=Path, help="folder for the backup (JIANJIAN_BACKUP_DIR)")
        parser.add_argument(
            "--keep", type=int, help="backups to keep in that folder (JIANJIAN_BACKUP_KEEP)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory = options["to"] or settings.BACKUP_DIR
        keep = options["keep"] if options["keep"] is not None else settings.BACKUP_KEEP
        if keep < 1:
            raise CommandError("--keep must be at least 1")
        try:
            made = backup.create(directory)
        except (backup.BackupError, OSError) as exc:
            raise CommandError(f"backup failed, nothing was kept: {exc}") from None
        self.stdout.write(self.style.SUCCESS(f"backup written: {made.path}"))
        self.stdout.write(f"checksum: {made.checksum_path}")
        for old in backup.prune(directory, keep):
            self.stdout.write(f"removed old backup: {old.name}")
