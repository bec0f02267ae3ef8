"""Consistent backups while the server runs, verified restores, and retention.

A backup is one file named by its UTC time, plus a ``.sha256`` file beside it in the format
``sha256sum -c`` reads, so a copy taken off the machine can be checked anywhere:

- SQLite: ``jianjian-20250102T030000Z.sqlite3``, made with SQLite's online backup API (a
  consistent snapshot even while clerks keep scanning), checked with ``PRAGMA integrity_check``;
- PostgreSQL: ``jianjian-20250102T030000Z.pgdump``, made with ``pg_dump --format=custom``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections

from jianjian import datadir

NAME = re.compile(r"^jianjian-(\d{8}T\d{6}Z)(?:-\d+)?\.(sqlite3|pgdump)$")
DAY = dt.timedelta(days=1)


class BackupError(RuntimeError):
    """A backup or restore that must not go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class Backup:
    path: Path
    taken_at: dt.datetime

    @property
    def checksum_path(self) -> Path:
        return checksum_path(self.path)


def _db() -> dict[str, Any]:
    # The connection's settings, not settings.DATABASES: under test they name the test database.
    return connections["default"].settings_dict


def is_sqlite() -> bool:
    return str(_db()["ENGINE"]).endswith("sqlite3")


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _target(directory: Path, now: dt.datetime, suffix: str) -> Path:
    stamp = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"jianjian-{stamp}.{suffix}"
    n = 1
    while path.exists():  # two backups in one second: keep both
        path = directory / f"jianjian-{stamp}-{n}.{suffix}"
        n += 1
    return path


# --- taking a backup ------------------------------------------------------------------------


def create(directory: Path | None = None, now: dt.datetime | None = None) -> Backup:
    """Take a backup into ``directory`` (default ``JIANJIAN_BACKUP_DIR``) and write its checksum.

    The copy is written under a temporary name and renamed only once complete and checked, so a
    crash or a full disk mid-way never leaves a file that looks like a good backup.
    """
    directory = Path(directory or settings.BACKUP_DIR)
    datadir.secure(directory)  # backups hold every session and phone: 0700/0600
    now = now or dt.datetime.now(dt.UTC)
    final = _target(directory, now, "sqlite3" if is_sqlite() else "pgdump")
    partial = final.with_name(final.name + ".partial")
    try:
        if is_sqlite():
            _sqlite_backup(Path(_db()["NAME"]), partial)
        else:
            _pg_dump(partial)
        _fsync(partial)
        digest = sha256(partial)
        partial.rename(final)
        checksum_path(final).write_text(f"{digest}  {final.name}\n")
    finally:
        partial.unlink(missing_ok=True)
    return Backup(final, now)


def _sqlite_backup(source: Path, dest: Path) -> None:
    if not source.exists():
        raise BackupError(f"there is no database at {source}; nothing to back up")
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(dest)
    try:
        # One step: a consistent snapshot as of the moment it starts; writers wait meanwhile (the
        # busy timeout covers it), readers do not.
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        problem = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if problem != "ok":
            raise BackupError(f"the copy failed its integrity check: {problem}")
    finally:
        dst.close()
        src.close()


def _pg_env() -> tuple[list[str], dict[str, str]]:
    db = _db()
    args = ["--host", str(db.get("HOST") or "localhost"), "--port", str(db.get("PORT") or 5432)]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return args, env


def _run(cmd: list[str], env: dict[str, str]) -> None:
    if shutil.which(cmd[0]) is None:
        raise BackupError(f"{cmd[0]} is not installed (apt-get install postgresql-client)")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{cmd[0]} failed: {done.stderr.strip()[-800:]}")


def _pg_dump(dest: Path) -> None:
    args, env = _pg_env()
    _run(["pg_dump", *args, "--format=custom", "--file", str(dest), str(_db()["NAME"])], env)


# --- checking and restoring -----------------------------------------------------------------


def verify(path: Path) -> None:
    """Raise :class:`BackupError` unless ``path`` matches its checksum and reads back whole."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    sums = checksum_path(path)
    if not sums.is_file():
        raise BackupError(f"{sums.name} is missing: the backup cannot be verified")
    expected = sums.read_text().split()[0] if sums.read_text().split() else ""
    if sha256(path) != expected:
        raise BackupError(f"{path.name} does not match its checksum: it is damaged or incomplete")
    if path.suffix == ".sqlite3":
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
                result = con.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path.name} is not a readable SQLite database: {exc}") from None
        if result != "ok":
            raise BackupError(f"{path.name} fails SQLite's integrity check: {result}")
    elif path.suffix == ".pgdump":
        _run(["pg_restore", "--list", str(path)], dict(os.environ))
    else:
        raise BackupError(f"{path.name} is not a jianjian backup (.sqlite3 or .pgdump)")


def restore(path: Path) -> Path | str:
    """Verify ``path`` and restore it into the configured, empty database. Returns the target."""
    path = Path(path)
    verify(path)
    if is_sqlite():
        if path.suffix != ".sqlite3":
            raise BackupError("this instance uses SQLite: restore a .sqlite3 backup")
        return _restore_sqlite(path, Path(_db()["NAME"]))
    if path.suffix != ".pgdump":
        raise BackupError("this instance uses PostgreSQL: restore a .pgdump backup")
    return _restore_pg(path)


def _restore_sqlite(path: Path, target: Path) -> Path:
    leftovers = [p for p in (target, target.with_name(target.name + "-wal")) if p.exists()]
    if any(p.stat().st_size > 0 for p in leftovers):
        raise BackupError(
            f"{target} already holds a database: restore only into an empty data directory "
            "(move the old one aside first)"
        )
    for p in leftovers:
        p.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".restoring")
    shutil.copyfile(path, partial)
    _fsync(partial)
    partial.rename(target)
    return target


def _restore_pg(path: Path) -> str:
    connection = connections["default"]
    connection.ensure_connection()
    if connection.introspection.table_names():
        raise BackupError(
            f"database {_db()['NAME']} is not empty: restore only into an empty database "
            "(create a new one and point JIANJIAN_DATABASE_URL at it)"
        )
    connection.close()
    args, env = _pg_env()
    _run(
        [
            "pg_restore",
            *args,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            str(_db()["NAME"]),
            str(path),
        ],
        env,
    )
    return str(_db()["NAME"])


# --- retention and the daily backup ---------------------------------------------------------


def backups(directory: Path | None = None) -> list[Backup]:
    """The backups in ``directory``, oldest first."""
    directory = Path(directory or settings.BACKUP_DIR)
    if not directory.is_dir():
        return []
    found = []
    for p in directory.iterdir():
        m = NAME.match(p.name)
        if m:
            at = dt.datetime.strptime(m.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
            found.append(Backup(p, at))
    return sorted(found, key=lambda b: (b.taken_at, b.path.name))


def prune(directory: Path | None = None, keep: int | None = None) -> list[Path]:
    """Delete all but the newest ``keep`` backups (default ``JIANJIAN_BACKUP_KEEP``)."""
    keep = settings.BACKUP_KEEP if keep is None else keep
    old = backups(directory)[: max(len(backups(directory)) - keep, 0)]
    for b in old:
        b.path.unlink(missing_ok=True)
        b.checksum_path.unlink(missing_ok=True)
    return [b.path for b in old]


def due(directory: Path | None = None, now: dt.datetime | None = None) -> bool:
    """True when no backup is younger than a day."""
    existing = backups(directory)
    now = now or dt.datetime.now(dt.UTC)
    return not existing or now - existing[-1].taken_at >= DAY
