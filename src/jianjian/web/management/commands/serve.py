"""``jianjian serve``: the production web server (granian) and, by default, the worker beside it.

Before serving it refuses a database whose migrations are not all applied (and says which
command fixes it); while serving it takes a daily backup when ``JIANJIAN_BACKUP_DAILY`` is on
(the default for SQLite).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections

log = logging.getLogger("jianjian.serve")

# How often the backup thread looks whether a day has passed since the newest backup.
BACKUP_POLL_SECONDS = 15 * 60


def refuse_unapplied_migrations() -> None:
    """Stop with the command to run, rather than serve pages against an old schema."""
    from jianjian.ops.readiness import unapplied_migrations

    try:
        missing = unapplied_migrations()
    except DatabaseError as exc:
        raise CommandError(f"cannot reach the database: {exc}") from None
    finally:
        connections.close_all()  # granian's workers open their own
    if missing:
        shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        raise CommandError(
            f"the database has {len(missing)} unapplied migrations ({shown}).\n"
            "Run `jianjian migrate` (after `jianjian backup`), then start the server again."
        )


def daily_backups(stop: threading.Event, poll_seconds: float = BACKUP_POLL_SECONDS) -> None:
    """Take a backup whenever the newest is a day old, and prune; never crash the server."""
    from jianjian.ops import backup

    while not stop.is_set():
        try:
            if backup.due():
                made = backup.create()
                backup.prune()
                log.info("daily backup written: %s", made.path)
        except Exception:  # a full disk must not take the counter down; /readyz shows the disk
            log.exception("daily backup failed")
        finally:
            connections.close_all()
        stop.wait(poll_seconds)


def prepare_metrics_dir() -> str:
    """Each granian worker process counts requests into this folder; a scrape sums them.

    A fresh temporary folder per run (outside the data directory, so counts of a previous run are
    never added in, backups never carry them, and a read-only data disk does not stop the web).
    """
    path = tempfile.mkdtemp(prefix="jianjian-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    return path


class Command(BaseCommand):
    help = "Serve the web app with granian and run the notification worker alongside."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("JIANJIAN_HOST", "127.0.0.1"))
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("JIANJIAN_PORT", "8000"))
        )
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("JIANJIAN_WEB_WORKERS", "2"))
        )
        parser.add_argument(
            "--no-worker", action="store_true", help="do not start the background worker"
        )
        parser.add_argument(
            "--no-backup", action="store_true", help="no daily backup, whatever the settings say"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from granian.constants import Interfaces
        from granian.server import Server

        refuse_unapplied_migrations()
        metrics_dir = prepare_metrics_dir()
        stop = threading.Event()
        if settings.BACKUP_DAILY and not options["no_backup"]:
            threading.Thread(target=daily_backups, args=(stop,), daemon=True).start()
        worker = None
        if not options["no_worker"]:
            # A separate process, so a crash in delivery never takes the counter down with it.
            worker = subprocess.Popen([sys.executable, "-m", "jianjian.cli", "worker"])
        self.stdout.write(f"serving on http://{options['host']}:{options['port']}/")
        try:
            Server(
                "jianjian.wsgi:application",
                address=options["host"],
                port=options["port"],
                interface=Interfaces.WSGI,
                workers=options["workers"],
            ).serve()
        finally:
            stop.set()
            shutil.rmtree(metrics_dir, ignore_errors=True)
            if worker is not None:
                worker.terminate()
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
