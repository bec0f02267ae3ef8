"""Structured logs: one JSON object per line, for each request and each committed custody event.

The custody kernel calls :func:`log_custody` with the events it writes (no model signal).
Events written in bulk by a pre-advice (a manifest's 100,000 announcements) get one ``custody
events`` line with their ``count`` instead (:func:`log_bulk_custody`), as a log of 100,000
identical lines would bury everything else.

The request id lives in a context variable, so a custody event logged during a request carries the
id of the request that caused it (and the id is returned to the client as ``X-Request-ID``).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
from collections.abc import Sequence
from typing import Any

from django.db import transaction

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


def log_custody(events: Sequence[Any]) -> None:
    """One line per custody event, written once their transaction commits (never what a
    rolled-back transaction tried)."""
    lines = [
        {
            "parcel_id": event.parcel_id,
            "seq": event.seq,
            "kind": event.kind,
            "to_state": event.to_state,
            "point_id": event.point_id,
            "community_id": event.community_id,
            "method": event.method,
            "actor": event.actor_label,
        }
        for event in events
    ]

    def write() -> None:
        for fields in lines:
            custody_log.info("custody event", extra=fields)

    transaction.on_commit(write)


def log_bulk_custody(*, count: int, **fields: Any) -> None:
    """One line for ``count`` custody events written together, once their transaction commits."""
    fields = {"count": count, **fields}
    transaction.on_commit(lambda: custody_log.info("custody events", extra=fields))
