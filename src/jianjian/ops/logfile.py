"""A log handler that appends each record to a file and closes it again.

Holding a log file open would pin the data directory's filesystem (it could not be remounted
read-only for repair, and a rotated file would keep growing unseen). Each line is one
``O_APPEND`` write, so the web workers and the notification worker can share the file. The file
is opened, written and closed with three system calls (no buffered text file, no directory check
unless the file cannot be opened): a busy counter writes a line per scan.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)


class AppendFileHandler(logging.Handler):
    def __init__(self, filename: str, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.path = Path(filename)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = (self.format(record) + "\n").encode("utf-8")
            try:
                fd = os.open(self.path, _FLAGS, 0o644)
            except FileNotFoundError:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, _FLAGS, 0o644)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        except Exception:
            # A full or read-only disk must not fail the request that logged: logging's own
            # error report (to stderr) is enough.
            self.handleError(record)
