"""Structured logs: one JSON object per line, for each request and each committed custody event.

Events written in bulk (a manifest's 100,000 announcements) send no ``post_save``; their writer
logs one ``custody events`` line with their ``count`` instead (:func:`log_bulk_custody`), as a
log of 100,000 identical lines would bury everything else.

The request id lives in a context variable, so a custody event logged during a request carries the
id of the request that caused it (and the id is returned to the client as ``X-Request-ID``).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

request_log = logging.getLogger("jianjian.request")
custody_log = logging.getLogger("jianjian.custody")

# Attributes every LogRecord has; anything else was passed through ``extra=`` and is ours.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """``{"ts": …, "level": …, "logger": …, "msg": …, **extra}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = request_id.get()
        if rid:
            payload["request_id"] = rid
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["error"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


def _custody_saved(sender: type, instance: Any, created: bool, **kwargs: Any) -> None:
    if not created or kwargs.get("raw"):
        return
    fields = {
        "parcel_id": instance.parcel_id,
        "seq": instance.seq,
        "kind": instance.kind,
        "to_state": instance.to_state,
        "point_id": instance.point_id,
        "community_id": instance.community_id,
        "method": instance.method,
        "actor": instance.actor_label,
    }
    # Log what was committed, never what a rolled-back transaction tried.
    transaction.on_commit(lambda: custody_log.info("custody event", extra=fields))


def log_bulk_custody(*, count: int, **fields: Any) -> None:
    """One line for ``count`` custody events written together, once their transaction commits."""
    fields = {"count": count, **fields}
    transaction.on_commit(lambda: custody_log.info("custody events", extra=fields))


def connect_custody_logging() -> None:
    from jianjian.parcels.models import CustodyEvent

    post_save.connect(_custody_saved, sender=CustodyEvent, dispatch_uid="ops-custody-log")
