"""Turn a database or disk failure into a clear answer for the person at the counter.

A full disk, a read-only database file and a database that has gone away all surface as
exceptions deep inside a request. Whatever was committed before is safe (each change is one
transaction), so the honest answer is: nothing new was saved, this is why, try again. The next
request tries again by itself; nothing needs a restart.
"""

from __future__ import annotations

import errno
import os

from django.conf import settings
from django.db import DatabaseError
from django.utils.translation import gettext as _

DISK_FULL = "disk_full"
READ_ONLY = "read_only"
UNAVAILABLE = "database_unavailable"

_DISK_FULL_WORDS = ("disk is full", "no space left", "could not extend file", "disk full")
_READ_ONLY_WORDS = ("readonly database", "read-only", "read only")


def classify(exc: BaseException) -> str | None:
    """The kind of fault ``exc`` is, or None if it is an ordinary bug (a 500)."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DISK_FULL
    if isinstance(exc, OSError) and exc.errno == errno.EROFS:
        return READ_ONLY
    if not isinstance(exc, DatabaseError):
        return None
    text = str(exc).lower()
    if any(word in text for word in _DISK_FULL_WORDS):
        return DISK_FULL
    if any(word in text for word in _READ_ONLY_WORDS):
        return READ_ONLY
    # SQLite often says only "unable to open database file" or "disk I/O error": ask the
    # filesystem that holds the data directory what is wrong with it.
    return _data_dir_fault() or UNAVAILABLE


def _data_dir_fault() -> str | None:
    try:
        stat = os.statvfs(settings.DATA_DIR)
    except OSError:
        return None
    if stat.f_flag & os.ST_RDONLY:
        return READ_ONLY
    if stat.f_bavail == 0:
        return DISK_FULL
    return None


def message(kind: str) -> str:
    if kind == DISK_FULL:
        return _(
            "The server's disk is full, so nothing new can be saved right now. Everything saved "
            "before is safe. Please tell the administrator, and try again once space is freed."
        )
    if kind == READ_ONLY:
        return _(
            "The database can only be read right now, so nothing new can be saved. Everything "
            "saved before is safe. Please tell the administrator, and try again once it is fixed."
        )
    return _(
        "The database cannot be reached right now. Everything saved before is safe. Please try "
        "again in a moment; if this goes on, tell the administrator."
    )
