"""The data directory and its files are private to the process's user (0700/0600)."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

from jianjian import datadir
from tests.ops.helpers import env_for, jianjian


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _world_readable(root: Path) -> list[str]:
    return [
        f"{p.relative_to(root)} {oct(_mode(p))}"
        for p in [root, *root.rglob("*")]
        if _mode(p) & 0o077
    ]


def test_the_process_makes_its_data_private_at_start_up(tmp_path):
    """An old install's data (0755/0644) is tightened by the next command, and what that
    command writes (database, secret key, backups with their checksums) is private from birth."""
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    log = data / "notifications.log"
    log.write_text('{"body": "您的验证码 123456"}\n')
    log.chmod(0o644)
    env = env_for(data)
    old = os.umask(0o022)  # as a shell's default: the process must not rely on its parent's
    try:
        assert jianjian("migrate", env=env).returncode == 0
        assert jianjian("backup", env=env).returncode == 0
    finally:
        os.umask(old)
    files = {p.name for p in data.rglob("*")}
    assert {"jianjian.sqlite3", "secret_key", "notifications.log", "backups"} <= files
    assert any(name.endswith(".sha256") for name in files)
    assert _world_readable(data) == []


def test_sqlite_wal_and_shm_are_private(tmp_path):
    old = os.umask(0o022)
    try:
        datadir.secure(tmp_path / "data")
        db = tmp_path / "data" / "jianjian.sqlite3"
        connection = sqlite3.connect(db)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE t (x)")
        connection.execute("INSERT INTO t VALUES (1)")
        connection.commit()
        wal, shm = Path(f"{db}-wal"), Path(f"{db}-shm")
        assert wal.exists() and shm.exists()
        assert (_mode(db), _mode(wal), _mode(shm)) == (0o600, 0o600, 0o600)
        connection.close()
    finally:
        os.umask(old)
    assert _mode(tmp_path / "data") == 0o700
