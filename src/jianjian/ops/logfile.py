"""A log handler that appends each record to a file and closes it again.

Holding a log file open would pin the data directory's filesystem (it could not be remounted
read-only for repair, and a rotated file would keep growing unseen). Each line is one
``O_APPEND`` write, so the web workers and the notification worker can share the file.
"""

from __future__ import annotations

import logging
from pathlib import Path


class AppendFileHandler(logging.Handler):
    def __init__(self, filename: str, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.path = Path(filename)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + "\n"
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line)
        except Exception:
            # A full or read-only disk must not fail the request that logged: logging's own
            # error report (to stderr) is enough.
            self.handleError(record)
