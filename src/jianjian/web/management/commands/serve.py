"""``jianjian serve``: the production web server (granian) and, by default, the worker beside it.

Before serving it refuses a database whose migrations are not all applied (and says which
command fixes it); while serving it runs ``jianjian backup --daily`` beside it when ``JIANJIAN_BACKUP_DAILY`` is on
(the default for SQLite).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections

from jianjian.ops.lifeline import mark_children


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
    metrics_dir = ""

    def run_from_argv(self, argv: list[str]) -> None:
        # The folder must be named before prometheus_client is first imported: it picks in-process
        # or multi-process counting once, at import. Django's system checks, which run before
        # handle(), import the URLconf and with it the metrics; granian's workers are forked
        # from this process and inherit that choice. Chosen in-process, each worker counted
        # only in its own memory and a scrape showed no request at all.
        self.metrics_dir = prepare_metrics_dir()
        try:
            super().run_from_argv(argv)
        finally:
            shutil.rmtree(self.metrics_dir, ignore_errors=True)

    def add_arguments(self, parser: CommandParser) -> None:
        # Defaults from the settings (JIANJIAN_HOST, JIANJIAN_PORT, JIANJIAN_WEB_*), which stop
        # the process with a message on a bad value before anything starts.
        parser.add_argument("--host", default=settings.WEB_HOST)
        parser.add_argument("--port", type=int, default=settings.WEB_PORT)
        parser.add_argument("--workers", type=int, default=settings.WEB_WORKERS)
        parser.add_argument(
            "--threads",
            type=int,
            default=settings.WEB_THREADS,
            help="threads running Django in each worker",
        )
        parser.add_argument(
            "--backpressure",
            type=int,
            default=settings.WEB_BACKPRESSURE,
            help="connections each worker keeps open, idle keep-alive ones included",
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

        for name in ("workers", "threads", "backpressure"):
            if options[name] < 1:
                raise CommandError(f"--{name} must be at least 1")
        refuse_unapplied_migrations()
        # Called as `call_command("serve")` the folder is made here (and removed below).
        own_dir = "" if self.metrics_dir else prepare_metrics_dir()
        # Helpers run as separate processes, never threads of this one: granian forks its workers
        # from here, and a fork while a thread holds SQLite's locks hangs the child. A crash in a
        # helper never takes the counter down either.
        # Every process started below (helpers, granian's workers) ends with this one, even if
        # this one is killed outright (see ops/lifeline.py).
        mark_children()
        helpers: list[subprocess.Popen[bytes]] = []
        if settings.BACKUP_DAILY and not options["no_backup"]:
            helpers.append(
                subprocess.Popen([sys.executable, "-m", "jianjian.cli", "backup", "--daily"])
            )
        if not options["no_worker"]:
            helpers.append(subprocess.Popen([sys.executable, "-m", "jianjian.cli", "worker"]))
        self.stdout.write(f"serving on http://{options['host']}:{options['port']}/")
        try:
            Server(
                "jianjian.wsgi:application",
                address=options["host"],
                port=options["port"],
                interface=Interfaces.WSGI,
                workers=options["workers"],
                blocking_threads=options["threads"],
                backpressure=options["backpressure"],
            ).serve()
        finally:
            if own_dir:
                shutil.rmtree(own_dir, ignore_errors=True)
            for helper in helpers:
                helper.terminate()
            for helper in helpers:
                try:
                    helper.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    helper.kill()
