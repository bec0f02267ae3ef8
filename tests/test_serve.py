"""`jianjian serve` on a fresh SQLite data directory: migrate, demo, serve; the admin login works.

This is the README's run command minus the install step, against a real granian process, with
its helpers (notification worker, daily backup) running beside it as they do in production.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=5)
            return
        except OSError:
            time.sleep(0.2)  # polling a socket that is not open yet; bounded by the deadline
    raise AssertionError(f"{url} did not answer in {timeout} s")


@pytest.fixture
def served(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIANJIAN_DATABASE")} | {
        "JIANJIAN_DATA_DIR": str(tmp_path)
    }
    cli = [sys.executable, "-m", "jianjian.cli"]
    subprocess.run([*cli, "migrate", "--noinput", "-v0"], env=env, check=True, timeout=300)
    subprocess.run([*cli, "demo"], env=env, check=True, timeout=300, capture_output=True)
    port = _free_port()
    proc = subprocess.Popen([*cli, "serve", "--port", str(port), "--workers", "2"], env=env)
    try:
        _wait_for(f"http://127.0.0.1:{port}/", proc)
        yield f"http://127.0.0.1:{port}", tmp_path
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_serve_answers_and_the_demo_admin_can_sign_in(served):
    base, data_dir = served
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/admin/login/", timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    body = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token,
            "username": "admin",
            "password": "jianjian-demo",
            "next": "/admin/",
        }
    ).encode()
    request = urllib.request.Request(
        f"{base}/admin/login/", data=body, headers={"Referer": f"{base}/admin/login/"}
    )
    answer = opener.open(request, timeout=30)
    assert answer.geturl().endswith("/admin/")
    communities = opener.open(f"{base}/admin/communities/community/", timeout=30)
    assert "时代花园" in communities.read().decode()
    # Static files are served by the app itself (no CDN): the admin's stylesheet answers.
    assert opener.open(f"{base}/static/admin/css/base.css", timeout=30).status == 200
    # The worker runs beside the server and delivers the demo's notifications to the log file.
    log = data_dir / "notifications.log"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (log.exists() and log.stat().st_size > 0):
        time.sleep(0.2)
    assert log.exists() and "取件码" in log.read_text(encoding="utf-8")


def test_the_daily_backup_runs_beside_the_server_without_stalling_it(served):
    """On a fresh SQLite install the first backup is due at once. It runs in its own process:
    the web workers keep answering while it is written (a backup thread inside the server
    process once left a forked web worker hung on SQLite's lock)."""
    base, data_dir = served
    backups = data_dir / "backups"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(backups.glob("*.sha256")):
        # Each request must be answered promptly while the backup is under way.
        assert urllib.request.urlopen(f"{base}/healthz", timeout=10).status == 200
        time.sleep(0.2)
    assert list(backups.glob("*.sha256")), "no daily backup was written"
    for _ in range(10):
        assert urllib.request.urlopen(f"{base}/admin/login/", timeout=10).status == 200


def _children(pid: int) -> set[int]:
    """The pids whose parent is ``pid`` (read from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while the folder was read
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    """Whether any thread of ``pid`` still runs. Not the process's own state alone: while a
    multi-threaded process exits, its first thread is a zombie a moment before the others have
    ended, and they still hold its files (the listening socket among them)."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return False
    for task in tasks:
        try:
            state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue  # the thread ended while it was read
        if state != "Z":  # a zombie has ended; only its exit status is left to collect
            return True
    return False


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=10).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_killed_server_takes_its_workers_and_helpers_with_it(tmp_path: Path):
    """SIGKILL to `jianjian serve` (the OOM killer, a supervisor's last resort): its web workers
    and helpers must not live on as orphans holding the port and running a second worker."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIANJIAN_DATABASE")} | {
        "JIANJIAN_DATA_DIR": str(tmp_path),
        "TMPDIR": str(tmp_path),  # the metrics folder a killed server cannot remove goes here
    }
    cli = [sys.executable, "-m", "jianjian.cli"]
    subprocess.run([*cli, "migrate", "--noinput", "-v0"], env=env, check=True, timeout=300)
    port = _free_port()
    proc = subprocess.Popen([*cli, "serve", "--port", str(port), "--workers", "2"], env=env)
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", proc)
        children = _children(proc.pid)
        # Two web workers, the notification worker and the daily backup.
        assert len(children) == 4, children
    finally:
        proc.kill()
        proc.wait(timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in children):
        time.sleep(0.1)  # waiting for the kernel's SIGTERM to be acted on; bounded
    left = {pid: Path(f"/proc/{pid}/cmdline").read_bytes() for pid in children if _alive(pid)}
    assert not left, f"orphans left behind: {left}"
    # Nothing listens on the port any more. (Not a test bind: the server's side of the closed
    # connections may linger in TIME_WAIT and refuse a bind for a minute, a listener or not.)
    # Asked until refused, within a bound: the last thread of a worker lets the socket go a
    # moment after the process is seen to end; an orphan holding it would never.
    while time.monotonic() < deadline and not _refused(port):
        time.sleep(0.1)
    assert _refused(port), f"something still listens on {port}"


def test_metrics_add_up_the_requests_of_every_web_worker(tmp_path: Path):
    """Two granian worker processes answer; one scrape counts every request, whichever process
    served it and whichever answers the scrape (the counts go through PROMETHEUS_MULTIPROC_DIR)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIANJIAN_DATABASE")} | {
        "JIANJIAN_DATA_DIR": str(tmp_path),
        "JIANJIAN_METRICS_TOKEN": "scrape-token-for-test",
    }
    cli = [sys.executable, "-m", "jianjian.cli"]
    subprocess.run([*cli, "migrate", "--noinput", "-v0"], env=env, check=True, timeout=300)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--workers", "2", "--no-worker", "--no-backup"],
        env=env,
    )
    try:
        _wait_for(f"{base}/healthz", proc)
        answered = 1  # the readiness probe above
        for _ in range(60):  # a connection each: the kernel spreads them over both workers
            assert urllib.request.urlopen(f"{base}/healthz", timeout=10).status == 200
            answered += 1
        scrape = urllib.request.Request(
            f"{base}/metrics", headers={"Authorization": "Bearer scrape-token-for-test"}
        )
        for _ in range(4):  # whichever worker answers the scrape, the sum is the same
            text = urllib.request.urlopen(scrape, timeout=10).read().decode()
            line = 'jianjian_http_requests_total{method="GET",route="/healthz",status="200"}'
            counted = [row for row in text.splitlines() if row.startswith(line)]
            assert counted and float(counted[0].split()[-1]) == answered, counted
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_more_keep_alive_clients_than_threads_are_all_answered(tmp_path: Path):
    """Scanning stations and API clients keep their connections open between scans. granian's
    backpressure counts open connections, idle ones included: each of 24 clients holding one
    open must still be answered, not left waiting for a connection another client never
    closes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIANJIAN_")} | {
        "JIANJIAN_DATA_DIR": str(tmp_path)
    }
    cli = [sys.executable, "-m", "jianjian.cli"]
    subprocess.run([*cli, "migrate", "--noinput", "-v0"], env=env, check=True, timeout=300)
    port = _free_port()
    proc = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--workers", "2", "--no-worker", "--no-backup"],
        env=env,
    )
    clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=20) for _ in range(24)]
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", proc)
        for _round in range(2):  # the second round asks again on the connections held open
            for client in clients:
                client.request("GET", "/healthz")
            statuses = []
            for client in clients:
                response = client.getresponse()
                response.read()
                statuses.append(response.status)
            assert statuses == [200] * len(clients)
    finally:
        for client in clients:
            client.close()
        proc.terminate()
        proc.wait(timeout=30)
