"""Run the real `jianjian` command in a subprocess against its own data directory or database."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from django.db import connection

CLI = [sys.executable, "-m", "jianjian.cli"]


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


def env_for(data_dir: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIANJIAN_")}
    env["JIANJIAN_DATA_DIR"] = str(data_dir)
    if database_url:
        env["JIANJIAN_DATABASE_URL"] = database_url
    return env | extra


def jianjian(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _pg_admin_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}"


@contextmanager
def scratch_pg_database() -> Iterator[str]:
    """A new, empty PostgreSQL database (dropped afterwards); yields its URL."""
    name = f"jj_scratch_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin_url()
    with psycopg.connect(f"{admin}/postgres", autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin}/{name}"
    finally:
        with psycopg.connect(f"{admin}/postgres", autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
