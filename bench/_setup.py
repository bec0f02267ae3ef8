"""Shared set-up for the benchmarks: a throw-away database (SQLite file or a fresh PostgreSQL
database), migrated, with a community loaded in bulk. Imported before Django is configured."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path


def configure(database: str, name: str) -> Path:
    """Point jianjian at a fresh database; return the data directory. Call before django.setup()."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"jj-bench-{name}-"))
    os.environ["JIANJIAN_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jianjian.settings")
    if database == "postgres":
        # JIANJIAN_BENCH_DB names another database, so two benchmark runs on one server (two
        # worktrees) do not drop each other's.
        db = os.environ.get("JIANJIAN_BENCH_DB") or f"jj_bench_{name}"
        for sql in (f"DROP DATABASE IF EXISTS {db}", f"CREATE DATABASE {db}"):
            subprocess.run(
                ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-c", sql], check=True
            )
        os.environ["JIANJIAN_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{db}"
    else:
        os.environ.pop("JIANJIAN_DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data_dir


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu or platform.processor()}, Python {sys.version.split()[0]}"


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]
