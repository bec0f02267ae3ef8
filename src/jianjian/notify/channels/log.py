"""The embedded default: every message appended as one line to a file in the data directory."""

from __future__ import annotations

import json

from django.conf import settings
from django.utils import timezone

from jianjian.notify.models import Notification


class LogChannel:
    def send(self, notification: Notification) -> str:
        path = settings.NOTIFY_LOG_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {
                "at": timezone.now().isoformat(),
                "id": notification.pk,
                "to": notification.address,
                "cause": notification.cause,
                "body": notification.body,
            },
            ensure_ascii=False,
        )
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        return "logged"
