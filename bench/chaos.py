"""Chaos drill: concurrent clients drive intake, pickup and return over HTTP while the server and
the worker are killed with SIGKILL at random moments and restarted. Then it counts.

    python bench/chaos.py                 # full form: both databases, ≥ 20 kills each
    python bench/chaos.py --short         # CI's short form (a few kills, well under a minute each)
    python bench/chaos.py --db sqlite --kills 30 --clients 6

For each database it prints: requests sent, acknowledged, found in the database, duplicates, lost,
parcels present that were never sent, `jianjian check` differences, due notifications not
delivered and notifications delivered twice. It exits non-zero when anything acknowledged is lost
or doubled, anything unsent is present, the check differs or a due notification was not delivered.

The clients use the drill endpoints (/ops/drill/*, enabled by JIANJIAN_DRILL_TOKEN), each a thin
call of one lifecycle service. Every process runs in its own session so SIGKILL takes the whole
process group (granian's workers too): a power cut, not a polite stop.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

CLI = [sys.executable, "-m", "jianjian.cli"]
TOKEN = "chaos-drill-token-" + os.urandom(8).hex()
PHONE = "13800138000"


@dataclass
class Ledger:
    """What the clients sent and what the server acknowledged (op, tracking number)."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    acked: list[tuple[str, str]] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Proc:
    """A restartable child in its own session (so SIGKILL takes its whole process group)."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args, self.env, self.log = args, env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                self.args, env=self.env, stdout=out, stderr=out, start_new_session=True
            )

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(base: str, path: str, body: dict[str, object]) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.loads(exc.read() or b"{}")
        except ValueError:
            return exc.code, {}


def _wait_up(base: str, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2)
            return True
        except OSError:
            time.sleep(0.1)  # the server is restarting; bounded by the deadline
    return False


def client(base: str, courier: int, ledger: Ledger, stop: threading.Event, seed: int) -> None:
    rnd = random.Random(seed)
    waiting: list[str] = []  # acknowledged intakes this client may pick up or return
    n = 0
    while not stop.is_set():
        roll = rnd.random()
        if waiting and roll < 0.3:
            op, number = "pickup", waiting.pop(rnd.randrange(len(waiting)))
        elif waiting and roll < 0.4:
            op, number = "return", waiting.pop(rnd.randrange(len(waiting)))
        else:
            n += 1
            op, number = "intake", f"SF{seed:04d}{n:09d}"
        body: dict[str, object] = {"community": "drill", "point": "A", "tracking": number}
        if op == "intake":
            body["phone"] = PHONE
        if op == "return":
            body["courier"] = courier
        with ledger.lock:
            ledger.sent.append((op, number))
        # Retry what got no answer (the server was killed mid-request) like a clerk scanning again.
        for _attempt in range(5):
            try:
                status, answer = _post(base, f"/ops/drill/{op}", body)
            except OSError as exc:
                with ledger.lock:
                    ledger.errors[type(exc).__name__] += 1
                _wait_up(base, time.monotonic() + 30)
                continue
            if status == 200:
                with ledger.lock:
                    ledger.acked.append((op, number))
                if op == "intake":
                    waiting.append(number)
                break
            with ledger.lock:
                ledger.errors[f"{status} {answer.get('error', '')}"] += 1
            if status < 500:
                break  # a clear refusal (e.g. a retried pickup that had in fact gone through)
            time.sleep(0.2)


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0 and args[0] != "check":
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout + done.stderr


def drill(
    database: str, kills: int, clients: int, min_gap: float, max_gap: float, settle: bool
) -> dict:
    data = Path(tempfile.mkdtemp(prefix=f"jj-chaos-{database}-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIANJIAN_")}
    env |= {
        "JIANJIAN_DATA_DIR": str(data),
        "JIANJIAN_DRILL_TOKEN": TOKEN,
        "JIANJIAN_WORKER_POLL_SECONDS": "1",
        "JIANJIAN_LOG_LEVEL": "WARNING",
    }
    pg_name = f"jj_chaos_{os.getpid()}"
    if database == "postgres":
        for sql in (f"DROP DATABASE IF EXISTS {pg_name}", f"CREATE DATABASE {pg_name}"):
            subprocess.run(
                ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-c", sql], check=True
            )
        env["JIANJIAN_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{pg_name}"
    try:
        _run(["migrate", "-v0"], env)
        world = json.loads(
            _run(
                [
                    "manage",
                    "shell",
                    "-v0",
                    "-c",
                    "import json; from jianjian.ops.drillworld import ensure; "
                    "print(json.dumps(ensure()))",
                ],
                env,
            )
            .strip()
            .splitlines()[-1]
        )
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = Proc(
            [*CLI, "serve", "--port", str(port), "--workers", "2", "--no-worker", "--no-backup"],
            env,
            data / "server.log",
        )
        worker = Proc([*CLI, "worker"], env, data / "worker.log")
        server.start()
        worker.start()
        if not _wait_up(base, time.monotonic() + 60):
            raise SystemExit(f"the server did not start; see {data / 'server.log'}")

        ledger, stop = Ledger(), threading.Event()
        threads = [
            threading.Thread(target=client, args=(base, world["courier"], ledger, stop, i + 1))
            for i in range(clients)
        ]
        for t in threads:
            t.start()
        rnd = random.Random(20200416)
        done = {"server": 0, "worker": 0}
        started = time.monotonic()
        for _ in range(kills):
            time.sleep(rnd.uniform(min_gap, max_gap))  # a random moment for the power cut
            victim = "server" if rnd.random() < 0.7 else "worker"
            proc = server if victim == "server" else worker
            proc.kill()
            done[victim] += 1
            proc.start()
            if victim == "server":
                _wait_up(base, time.monotonic() + 60)
        time.sleep(max_gap)
        stop.set()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        # Let the worker (restarted after its last kill) deliver; stale claims of killed workers
        # expire, so run it once more after the claim time if anything is still due.
        worker.stop()
        server.stop()
        verify = _verify(env, ledger, settle)
        verify |= {
            "database": database,
            "kills_server": done["server"],
            "kills_worker": done["worker"],
            "clients": clients,
            "seconds": round(elapsed, 1),
            "errors": dict(ledger.errors),
        }
        return verify
    finally:
        if database == "postgres":
            subprocess.run(
                [
                    "psql",
                    "-q",
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "postgres",
                    "-c",
                    f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)",
                ],
                check=False,
            )


VERIFY = r"""
import json, sys
from collections import Counter
from django.db.models import Q
from django.utils import timezone
from jianjian.notify.models import Notification
from jianjian.parcels.models import CustodyEvent, Parcel
from jianjian.parcels.fold import check
sent = json.load(open(sys.argv[-1]))
kinds = {"intake": "intake", "pickup": "hand_over", "return": "return"}
events = Counter(
    (t, k) for t, k in CustodyEvent.objects.filter(community__slug="drill")
    .values_list("parcel__tracking_number", "kind")
)
numbers = set(Parcel.objects.filter(community__slug="drill").values_list("tracking_number", flat=True))
acked = [(op, n) for op, n in sent["acked"]]
found = sum(1 for op, n in acked if events[(n, kinds[op])] >= 1)
dups = sum(1 for key, c in events.items() if c > 1)
unsent = len(numbers - {n for _op, n in sent["sent"]})
report = check(None)
now = timezone.now()
due = Q(status="pending", next_attempt_at__lte=now) | Q(status="sending", claimed_until__lt=now)
undelivered = Notification.objects.filter(due).count()
# Claimed by a worker that was killed mid-send: retried once the claim expires, not lost.
in_flight = Notification.objects.filter(status="sending", claimed_until__gte=now)
claim_wait = max([(c - now).total_seconds() for c in in_flight.values_list("claimed_until", flat=True)] or [0])
in_flight = in_flight.count()
parcels_without = Parcel.objects.filter(community__slug="drill", notifications__isnull=True).count()
print(json.dumps({
    "sent": len(sent["sent"]), "acknowledged": len(acked), "found": found,
    "duplicates": dups, "lost": len(acked) - found, "unsent_present": unsent,
    "parcels": len(numbers), "events": sum(events.values()),
    "check_differences": len(report.problems),
    "notifications": Notification.objects.count(),
    "due_not_delivered": undelivered, "claimed_by_killed_worker": in_flight, "claim_wait": claim_wait, "parcels_without_notification": parcels_without,
}))
"""


def _verify(env: dict[str, str], ledger: Ledger, settle: bool = False) -> dict:
    ledger_file = Path(env["JIANJIAN_DATA_DIR"]) / "ledger.json"
    ledger_file.write_text(json.dumps({"sent": ledger.sent, "acked": ledger.acked}))
    script = Path(env["JIANJIAN_DATA_DIR"]) / "verify.py"
    script.write_text(VERIFY)
    # Deliver what is due, as the restarted worker would (claims of killed workers expire first).
    for _round in range(3):
        _run(["worker", "--once"], env)
    run = [
        sys.executable,
        "-c",
        "import os, sys, runpy, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
        "'jianjian.settings'); django.setup(); sys.argv = sys.argv[1:]; "
        "runpy.run_path(sys.argv[0], run_name='__main__')",
        str(script),
        str(ledger_file),
    ]
    done = subprocess.run(run, env=env, capture_output=True, text=True, check=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["delivered_twice"] = _delivered_twice(Path(env["JIANJIAN_DATA_DIR"]))
    if settle and figures["claimed_by_killed_worker"]:
        # Messages a killed worker had claimed are retried once the claim expires: wait for that,
        # deliver, and count again, to show none of them is lost.
        time.sleep(figures["claim_wait"] + 1)
        return _verify(env, ledger, settle=False)
    return figures


def _delivered_twice(data: Path) -> int:
    log = data / "notifications.log"
    if not log.exists():
        return 0
    ids = Counter(json.loads(line).get("id") for line in log.read_text().splitlines() if line)
    return sum(1 for c in ids.values() if c > 1)


def _failed(f: dict) -> bool:
    return bool(
        f["lost"]
        or f["duplicates"]
        or f["unsent_present"]
        or f["check_differences"]
        or f["due_not_delivered"]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--short", action="store_true", help="CI's short form")
    parser.add_argument("--kills", type=int, help="SIGKILLs per database (default 24; short 4)")
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    kills = args.kills or (4 if args.short else 24)
    gaps = (0.5, 2.0) if args.short else (1.0, 4.0)
    print(
        f"chaos drill on {platform.node()}: {platform.platform()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    bad = False
    for database in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        f = drill(database, kills, args.clients, *gaps, settle=not args.short)
        bad |= _failed(f)
        print(
            f"\n== {database}: {f['kills_server']} server + {f['kills_worker']} worker SIGKILLs, "
            f"{f['clients']} clients, {f['seconds']} s"
        )
        for key in (
            "sent",
            "acknowledged",
            "found",
            "duplicates",
            "lost",
            "unsent_present",
            "parcels",
            "events",
            "check_differences",
            "notifications",
            "due_not_delivered",
            "claimed_by_killed_worker",
            "parcels_without_notification",
            "delivered_twice",
        ):
            print(f"  {key:30} {f[key]}")
        print(f"  {'client-side errors':30} {f['errors']}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
