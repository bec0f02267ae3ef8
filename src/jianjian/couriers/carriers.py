"""Carriers by code, kept in each process's memory.

Every intake names its parcel's carrier, and the carriers table changes a few times a year (an
admin renames one, a new prefix adds one). So each process keeps the rows it has read for up to
``TTL`` seconds: a change made in this process is seen at once (the cache is dropped on any save
or delete of a carrier), a change made by another process within ``TTL``. A stale entry costs a
notification the carrier's old name for a minute, never a wrong parcel: a carrier's id for its
code does not change while parcels point at it (they protect it from deletion).
"""

from __future__ import annotations

import copy
import time
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from jianjian.couriers.models import Carrier

TTL = 60.0

_by_code: dict[str, Carrier] = {}
_read_at = [0.0]


def carrier(code: str) -> Carrier:
    """The carrier with ``code`` (created, named by its code, if there is none yet)."""
    now = time.monotonic()
    if now - _read_at[0] > TTL:
        _by_code.clear()
        _read_at[0] = now
    found = _by_code.get(code)
    if found is None:
        found, created = Carrier.objects.get_or_create(code=code, defaults={"name": code})
        if created:
            # Remembered once committed: a rolled-back transaction must not leave behind an id
            # that no row has.
            transaction.on_commit(lambda: _by_code.setdefault(code, found))
        else:
            _by_code[code] = found
    return copy.copy(found)  # a caller's change to its copy never reaches another request


def forget(*_args: Any, **_kwargs: Any) -> None:
    _by_code.clear()
    _read_at[0] = 0.0


def connect() -> None:
    post_save.connect(forget, sender=Carrier, dispatch_uid="carrier-cache-save")
    post_delete.connect(forget, sender=Carrier, dispatch_uid="carrier-cache-delete")
