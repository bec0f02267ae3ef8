"""Background processes call :func:`beat` once per loop so ``/readyz`` can tell they are alive."""

from __future__ import annotations

import logging
import os
import socket

from django.db import DatabaseError
from django.utils import timezone

from jianjian.ops.models import Heartbeat

log = logging.getLogger(__name__)


def beat(name: str) -> None:
    """Record that ``name`` is alive now. A database hiccup must never stop the caller's loop."""
    try:
        Heartbeat.objects.update_or_create(
            name=name,
            defaults={"beat_at": timezone.now(), "pid": os.getpid(), "host": socket.gethostname()},
        )
    except DatabaseError as exc:
        log.warning("heartbeat %s not recorded: %s", name, exc)
