"""A full disk, a read-only database and a database that goes away: a clear 503, nothing committed
is lost, and the same running server recovers once the cause is gone.

SQLite faults are real: the data directory is a small tmpfs (mounted as root) that is filled up or
remounted read-only under a running `jianjian serve`. Without root they are skipped. The
PostgreSQL fault is real too: the database refuses connections and its backends are terminated.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import OperationalError

from tests.district.topology import make_world
from tests.factories import tracking
from tests.ops.helpers import Server, env_for, jianjian, on_postgres, scratch_pg_database

TOKEN = "fault-metrics-token-0123"
# /readyz names the failing check only to the metrics token.
READY = {"Authorization": f"Bearer {TOKEN}"}
# The counter app's world (a point, its clerk and the clerk's API token), made by _prepare.
WORLD: dict = {}


def _intake(server: Server, number: str) -> tuple[int, dict | str]:
    body = {"point_id": WORLD["point"], "tracking_number": number, "phone": "13800138000"}
    auth = {"Authorization": f"Bearer {WORLD['token']}"}
    return server.call("POST", "/api/v1/parcels/intake", body, auth)


def _count_parcels(env: dict[str, str]) -> int:
    out = jianjian(
        "manage",
        "shell",
        "-c",
        "from jianjian.parcels.models import Parcel; print(Parcel.objects.count())",
        env=env,
    )
    return int(out.stdout.split()[-1])


def _prepare(env: dict[str, str]) -> None:
    assert jianjian("migrate", "-v0", env=env).returncode == 0
    WORLD.clear()
    WORLD.update(make_world(env))


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if on_postgres():
        pytest.skip("a SQLite fault: the PostgreSQL run has its own")
    if os.geteuid() != 0:
        # CI runs as root: there a missing capability is a failure, never a silent skip.
        if os.environ.get("CI"):
            pytest.fail("CI must run as root to mount the small tmpfs")
        pytest.skip("needs root to mount a small tmpfs")
    mount = tmp_path / "data"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs: {done.stderr!r}")
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr!r}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def sqlite_server(small_disk: Path) -> Iterator[tuple[Server, Path, dict[str, str]]]:
    env = env_for(
        small_disk,
        JIANJIAN_METRICS_TOKEN=TOKEN,
        JIANJIAN_READY_REQUIRE_WORKER="false",
        JIANJIAN_READY_MIN_FREE_MB="1",
    )
    _prepare(env)
    server = Server(env).start()
    try:
        yield server, small_disk, env
    finally:
        server.stop()


def _checkpoint(database: Path) -> None:
    """Fold the WAL into the database and truncate it, so the next write needs new disk space."""
    con = sqlite3.connect(database)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()  # an open file would keep the filesystem from being remounted read-only


def _fill(directory: Path) -> Path:
    filler = directory / "filler"
    with open(filler, "wb", buffering=0) as fh:
        for size in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    fh.write(b"\0" * size)
                    fh.flush()
            except OSError:
                continue
    return filler


def test_full_disk_gives_a_clear_503_keeps_data_and_recovers(sqlite_server):
    server, data, env = sqlite_server
    saved = [tracking() for _ in range(3)]
    for number in saved:
        assert _intake(server, number)[0] == 200
    _checkpoint(data / "jianjian.sqlite3")
    filler = _fill(data)

    refused = tracking()
    status, body = _intake(server, refused)
    assert status == 503, body
    assert isinstance(body, dict) and body["error"] == "disk_full"
    assert "磁盘已满" in body["message"]
    status, ready = server.call("GET", "/readyz", headers=READY)
    assert status == 503 and ready["checks"]["disk"]["ok"] is False

    filler.unlink()  # the volunteer frees space; the same server goes on
    assert _intake(server, refused)[0] == 200
    assert server.call("GET", "/readyz", headers=READY)[0] == 200
    server.stop()
    assert _count_parcels(env) == len(saved) + 1
    assert jianjian("check", env=env).returncode == 0


def test_read_only_database_gives_a_clear_503_keeps_data_and_recovers(sqlite_server):
    server, data, env = sqlite_server
    assert _intake(server, first := tracking())[0] == 200
    _checkpoint(data / "jianjian.sqlite3")
    subprocess.run(["mount", "-o", "remount,ro", str(data)], check=True)
    try:
        status, body = _intake(server, second := tracking())
        assert status == 503, body
        assert isinstance(body, dict) and body["error"] == "read_only"
        assert "只能读取" in body["message"]
        status, ready = server.call("GET", "/readyz", headers=READY)
        assert status == 503 and "read-only" in ready["checks"]["disk"]["detail"]
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(data)], check=True)
    assert _intake(server, second)[0] == 200
    assert _intake(server, first)[1]["duplicate"] is True  # type: ignore[index]
    server.stop()
    assert _count_parcels(env) == 2
    assert jianjian("check", env=env).returncode == 0


def test_postgres_going_away_and_coming_back(tmp_path):
    if not on_postgres():
        pytest.skip("a PostgreSQL fault")
    with scratch_pg_database() as url:
        env = env_for(
            tmp_path, url, JIANJIAN_METRICS_TOKEN=TOKEN, JIANJIAN_READY_REQUIRE_WORKER="false"
        )
        _prepare(env)
        server = Server(env).start()
        name = url.rsplit("/", 1)[1]
        admin = url.rsplit("/", 1)[0] + "/postgres"
        try:
            assert _intake(server, first := tracking())[0] == 200
            with psycopg.connect(admin, autocommit=True) as con:
                con.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
                con.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    [name],
                )
            status, body = _intake(server, second := tracking())
            assert status == 503, body
            assert isinstance(body, dict) and body["error"] == "database_unavailable"
            assert "无法连接数据库" in body["message"]
            assert server.call("GET", "/readyz", headers=READY)[0] == 503
            with psycopg.connect(admin, autocommit=True) as con:
                con.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            assert _intake(server, second)[0] == 200
            assert _intake(server, first)[1]["duplicate"] is True  # type: ignore[index]
            assert server.call("GET", "/readyz", headers=READY)[0] == 200
        finally:
            server.stop()
        assert _count_parcels(env) == 2


@pytest.mark.parametrize(
    ("language", "text"),
    [("zh-hans", "磁盘已满"), ("en", "disk is full")],
)
def test_a_page_shows_the_fault_in_the_users_language(rf, language, text):
    from django.utils import translation

    from jianjian.ops.views import server_error

    request = rf.get("/", HTTP_ACCEPT="text/html")
    with translation.override(language):
        try:
            raise OperationalError("database or disk is full")
        except OperationalError:
            response = server_error(request)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert text in page and "Traceback" not in page


def test_an_ordinary_bug_stays_a_500(rf):
    from jianjian.ops.views import server_error

    try:
        raise KeyError("bug")
    except KeyError:
        response = server_error(rf.get("/"))
    assert response.status_code == 500
