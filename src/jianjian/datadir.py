"""The data directory is private to the process's user: directories 0700, files 0600.

It holds the database with live sessions (and SQLite's WAL/SHM beside it), the secret key, the
backups and the notification log with live sign-in codes, none of which another local user may
read. Every process sets this itself at start-up (``settings`` calls :func:`secure`): the umask
makes every file it creates later private too, and what an older version left readable is
tightened once.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
UMASK = 0o077


def secure(*directories: Path) -> None:
    """Set the umask, create ``directories`` and make them and everything in them private."""
    os.umask(UMASK)
    for directory in directories:
        directory.mkdir(parents=True, exist_ok=True)
        tighten(directory)


def tighten(directory: Path) -> None:
    """Take group and other permissions away from ``directory`` and everything under it."""
    _chmod(directory, DIRECTORY_MODE)
    for root, dirs, files in os.walk(directory):
        for name in dirs:
            _chmod(Path(root, name), DIRECTORY_MODE)
        for name in files:
            _chmod(Path(root, name), FILE_MODE)


def _chmod(path: Path, mode: int) -> None:
    try:
        current = stat.S_IMODE(path.lstat().st_mode)
        if path.is_symlink() or current & 0o077 == 0:
            return  # already private (or a link, whose target is not ours to change)
        path.chmod(current & ~0o077 | (mode & 0o700))
    except OSError:
        pass  # a file that vanished meanwhile, or one on a read-only disk: nothing to tighten
