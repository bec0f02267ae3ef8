"""``jianjian worker``: run the sweeps and deliver the notification outbox, forever (or once
with --once). ``jianjian serve`` starts one beside the web server."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from jianjian.notify.worker import drain, tick
from jianjian.ops.heartbeat import beat


def _sweep_and_drain() -> int:
    return sum(tick())


class Command(BaseCommand):
    help = "Queue due reminders and digests, and deliver due notifications with retries."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="do what is due now, then exit")
        parser.add_argument(
            "--no-sweeps",
            action="store_true",
            help="only deliver the outbox (another worker runs the sweeps)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        step: Callable[[], int] = drain if options["no_sweeps"] else _sweep_and_drain
        if options["once"]:
            self.stdout.write(f"done: {step()}")
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        self.stdout.write("worker started")
        self.stdout.flush()
        while not stop.is_set():
            close_old_connections()
            beat("worker")  # /readyz tells a stuck or dead worker by this row's age
            if step() == 0:
                stop.wait(settings.WORKER_POLL_SECONDS)
        self.stdout.write("worker stopped")
