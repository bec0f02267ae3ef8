"""Chaos drill through the public API: concurrent counter apps drive intake, hand-over and return
over `/api/v1` (a clerk's bearer token, an `Idempotency-Key` per action, the same request sent
again after a timeout) while web processes and workers are killed with SIGKILL at random moments
and restarted. Then it counts.

    python bench/chaos.py                    # full form: both topologies, 24 kills each
    python bench/chaos.py --short            # CI's short form (a few kills each)
    python bench/chaos.py --topology district --kills 30 --clients 6

Two topologies:

- ``single``: one `jianjian serve --no-worker` (granian, 2 web workers) and one `jianjian worker`
  on SQLite, the clients talking to it directly;
- ``district``: two `jianjian serve --no-worker` nodes behind Debian's nginx (TLS, the config of
  deploy/nginx/) and two `jianjian worker` processes on one PostgreSQL.

For each it prints: actions sent, acknowledged, found in the database, duplicates, lost, parcels
present that were never sent, `jianjian check` differences, due notifications not delivered and
notifications delivered twice. It exits non-zero when anything acknowledged is lost or doubled,
anything unsent is present, the check differs or a due notification was not delivered.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.district import topology as t  # noqa: E402

# A killed worker's claimed messages are retried once its lease runs out; the drill uses a short
# lease so that happens within the run (production: JIANJIAN_NOTIFY_CLAIM_SECONDS, 120 s).
CLAIM_SECONDS = 10


class Single:
    """One server and one worker on SQLite, as a single community runs it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = t.free_ports(1)[0]
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("JIANJIAN_")}
        self._env = env | {
            "JIANJIAN_DATA_DIR": str(folder / "data"),
            "JIANJIAN_WORKER_POLL_SECONDS": "1",
            "JIANJIAN_NOTIFY_CLAIM_SECONDS": str(CLAIM_SECONDS),
            "JIANJIAN_BACKUP_DAILY": "false",
            "JIANJIAN_LOG_LEVEL": "WARNING",
        }
        serve = ["serve", "--port", str(self.port), "--workers", "2", "--no-worker", "--no-backup"]
        self.web = t.Proc("web", [*t.CLI, *serve], self._env, folder / "web.log")
        self.worker = t.Proc("worker", [*t.CLI, "worker"], self._env, folder / "worker.log")
        self.webs, self.worker_procs = [self.web], [self.worker]
        self.cafile: Path | None = None

    def env(self) -> dict[str, str]:
        return self._env

    def start(self) -> None:
        self.web.start()
        self.worker.start()
        t.wait_listening(self.port, time.monotonic() + 120, self.web)

    def restart(self, proc: t.Proc) -> None:
        proc.start()
        if proc is self.web:
            t.wait_listening(self.port, time.monotonic() + 120, self.web)

    def stop(self) -> None:
        self.worker.stop()
        self.web.stop()

    def delivery_logs(self) -> dict[str, Path]:
        return {"worker": self.folder / "data" / "notifications.log"}

    def waiting(self) -> int:
        import sqlite3

        con = sqlite3.connect(self.folder / "data" / "jianjian.sqlite3", timeout=30)
        try:
            row = con.execute(
                "SELECT count(*) FROM notify_notification WHERE status IN ('pending', 'sending')"
                " AND next_attempt_at <= datetime('now', '+1 minute')"
            ).fetchone()
        finally:
            con.close()
        return int(row[0])


def _settle(world: Any, deadline: float) -> bool:
    while time.monotonic() < deadline:
        waiting = (
            world.waiting() if isinstance(world, Single) else t.outbox_waiting(world.database_url)
        )
        if waiting == 0:
            return True
        time.sleep(1)  # the workers poll every second; bounded by the deadline
    return False


def drill(topology: str, folder: Path, database_url: str, kills: int, clients: int,
          gaps: tuple[float, float]) -> dict[str, Any]:  # fmt: skip
    stage: Any = (
        Single(folder)
        if topology == "single"
        else t.District(folder, database_url, claim_seconds=CLAIM_SECONDS)
    )
    env = stage.env()
    t.jianjian("migrate", "-v0", env=env)
    world = t.make_world(env)
    if isinstance(stage, Single):
        stage.start()
    else:
        stage.start_web()
        stage.start_workers()
    app = t.CounterApp(stage.base, world["token"], stage.cafile)
    ledger, stop = t.Ledger(), threading.Event()
    threads = [
        threading.Thread(target=t.client_loop, args=(app, world, ledger, stop, i + 1))
        for i in range(clients)
    ]
    rnd = random.Random(20200416)
    done: Counter[str] = Counter()
    started = time.monotonic()
    try:
        for thread in threads:
            thread.start()
        for _ in range(kills):
            time.sleep(rnd.uniform(*gaps))  # a random moment for the power cut
            pool = stage.webs if rnd.random() < 0.7 else stage.worker_procs
            victim = rnd.choice(pool)
            victim.kill()
            done["web" if victim in stage.webs else "worker"] += 1
            time.sleep(rnd.uniform(0, 1))  # the supervisor notices and restarts it
            stage.restart(victim)
        time.sleep(gaps[1])
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=180)
    elapsed = time.monotonic() - started
    settled = _settle(stage, time.monotonic() + CLAIM_SECONDS + 120)
    stage.stop()
    figures = t.count(env, ledger)
    seen = Counter(i for ids in t.deliveries(stage.delivery_logs()).values() for i in ids)
    figures |= {
        "topology": topology,
        "kills_web": done["web"],
        "kills_worker": done["worker"],
        "clients": clients,
        "seconds": round(elapsed, 1),
        "settled": settled,
        "delivered_twice": sum(1 for n in seen.values() if n > 1),
        "sent_not_in_log": len(set(figures["sent_ids"]) - set(seen)),
        "errors": dict(ledger.errors),
        "refused": dict(ledger.refused),
    }
    return figures


def _failed(f: dict[str, Any]) -> bool:
    return bool(
        f["lost"]
        or f["duplicates"]
        or f["unsent_present"]
        or f["check_differences"]
        or f["due_not_delivered"]
        or f["sent_not_in_log"]
    )


SHOWN = (
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
    "failed",
    "delivered_twice",
    "sent_not_in_log",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--topology", choices=["single", "district", "both"], default="both")
    parser.add_argument("--short", action="store_true", help="CI's short form")
    parser.add_argument("--kills", type=int, help="SIGKILLs per topology (default 24; short 3)")
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    kills = args.kills or (3 if args.short else 24)
    gaps = (0.5, 1.5) if args.short else (1.0, 4.0)
    print(
        f"chaos drill on {platform.node()}: {platform.platform()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    admin = t.postgres_admin_url()
    prefix = os.environ.get("JIANJIAN_BENCH_DB", "jj_chaos")
    bad = False
    for topology in ["single", "district"] if args.topology == "both" else [args.topology]:
        folder = Path(tempfile.mkdtemp(prefix=f"jj-chaos-{topology}-"))
        if topology == "district":
            with t.postgres_database(admin, prefix) as url:
                f = drill(topology, folder, url, kills, args.clients, gaps)
        else:
            f = drill(topology, folder, "", kills, args.clients, gaps)
        bad |= _failed(f)
        print(
            f"\n== {topology}: {f['kills_web']} web + {f['kills_worker']} worker SIGKILLs, "
            f"{f['clients']} clients, {f['seconds']} s (logs in {folder})"
        )
        for key in SHOWN:
            print(f"  {key:30} {f[key]}")
        print(f"  {'refused (definite answers)':30} {f['refused']}")
        print(f"  {'client-side retries':30} {f['errors']}")
        if f["check_differences"]:
            print(f"  check: {f['check_problems']}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
