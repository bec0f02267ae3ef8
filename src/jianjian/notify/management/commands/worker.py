"""``jianjian worker``: deliver the notification outbox, forever (or once with --once)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from jianjian.notify.worker import run_once
from jianjian.ops.heartbeat import beat


class Command(BaseCommand):
    help = "Deliver due notifications from the outbox, with retries."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="deliver what is due now, then exit"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            self.stdout.write(f"delivered {self._drain()} notifications")
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        self.stdout.write("worker started")
        while not stop.is_set():
            close_old_connections()
            beat("worker")  # /readyz tells a stuck or dead worker by this row's age
            if self._drain() == 0:
                stop.wait(settings.WORKER_POLL_SECONDS)
        self.stdout.write("worker stopped")

    def _drain(self) -> int:
        total = 0
        while (n := run_once()) > 0:
            total += n
        return total
