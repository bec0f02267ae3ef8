"""``jianjian disinfection_alerts``: queue one message to the admins per missed disinfection.

Safe to run as often as you like (cron, or the worker's sweep): the outbox's dedup key names the
task and the due time it missed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from jianjian.points.disinfection import alert_overdue


class Command(BaseCommand):
    help = "Tell community admins about overdue disinfection tasks (through the outbox)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{alert_overdue()} message(s) queued")
