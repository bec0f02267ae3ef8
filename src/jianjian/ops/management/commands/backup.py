"""``jianjian backup [--to DIR]``: a consistent, checksummed copy of the database, then retention.

``--daily`` keeps running and takes a backup whenever the newest is a day old: ``jianjian serve``
starts it as its own process. (Not a thread of the server: granian forks its workers from the
server process, and a fork while a thread holds SQLite's locks leaves the child hung forever.)
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jianjian.ops import backup

log = logging.getLogger("jianjian.backup")

# How often the daily loop looks whether a day has passed since the newest backup.
BACKUP_POLL_SECONDS = 15 * 60


def daily_backups(stop: threading.Event, poll_seconds: float = BACKUP_POLL_SECONDS) -> None:
    """Take a backup whenever the newest is a day old, and prune; never crash on a failure."""
    from django.db import connections

    while not stop.is_set():
        try:
            if backup.due():
                made = backup.create()
                backup.prune()
                log.info("daily backup written: %s", made.path)
        except Exception:  # a full disk must not stop the loop; /readyz shows the disk
            log.exception("daily backup failed")
        finally:
            connections.close_all()
        stop.wait(poll_seconds)


class Command(BaseCommand):
    help = "Back up the database (safe while the server runs) and prune old backups."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", type=Path, help="folder for the backup (JIANJIAN_BACKUP_DIR)")
        parser.add_argument(
            "--keep", type=int, help="backups to keep in that folder (JIANJIAN_BACKUP_KEEP)"
        )
        parser.add_argument(
            "--daily", action="store_true", help="keep running: a backup whenever one is a day old"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["daily"]:
            stop = threading.Event()
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: stop.set())
            daily_backups(stop)
            return
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
