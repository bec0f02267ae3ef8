"""The services' clock. Normally the wall clock; the demo loader sets it back to build a
realistic past day ("taken in three days ago") through the very same services."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from contextvars import ContextVar

from django.utils import timezone

_fixed: ContextVar[dt.datetime | None] = ContextVar("jianjian_clock", default=None)


def now() -> dt.datetime:
    return _fixed.get() or timezone.now()


@contextlib.contextmanager
def at(moment: dt.datetime) -> Iterator[None]:
    token = _fixed.set(moment)
    try:
        yield
    finally:
        _fixed.reset(token)
