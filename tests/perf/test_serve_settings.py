"""`jianjian serve` reads its address, workers, threads and backpressure through the settings:
a bad value stops it with a message naming the variable, before anything is started."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _serve(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jianjian.cli", "serve", "--no-worker", "--no-backup"],
        capture_output=True,
        text=True,
        env={**os.environ, "JIANJIAN_DATA_DIR": str(tmp_path), **env},
        timeout=120,
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("JIANJIAN_PORT", "80a", "JIANJIAN_PORT='80a' is not a whole number"),
        ("JIANJIAN_PORT", "70000", "JIANJIAN_PORT=70000 must be at most 65535"),
        ("JIANJIAN_WEB_WORKERS", "0", "JIANJIAN_WEB_WORKERS=0 must be at least 1"),
        ("JIANJIAN_WEB_THREADS", "many", "JIANJIAN_WEB_THREADS='many' is not a whole number"),
        ("JIANJIAN_WEB_BACKPRESSURE", "-1", "JIANJIAN_WEB_BACKPRESSURE=-1 must be at least 1"),
        ("JIANJIAN_DB_PREPARED", "maybe", "JIANJIAN_DB_PREPARED='maybe' is not a boolean"),
    ],
)
def test_a_bad_serve_setting_stops_the_process_with_a_message(tmp_path, name, value, message):
    result = _serve(tmp_path, **{name: value})
    assert result.returncode != 0
    assert message in result.stderr
    assert "serving on" not in result.stdout
