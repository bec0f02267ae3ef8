"""A district on one PostgreSQL, started for real: web nodes (`jianjian serve --no-worker`) behind
Debian's nginx (the config in deploy/nginx/, rendered with local ports and a throw-away
certificate), and `jianjian worker` processes. Also the counter app's API client (bearer token,
`Idempotency-Key`, retries after a timeout) and the counts taken afterwards.

Shared by tests/district/test_many_nodes.py and bench/chaos.py. Every process runs in its own
session, so SIGKILL takes its whole process group (granian's workers too): a power cut.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "jianjian.cli"]
NGINX_SITE = ROOT / "deploy" / "nginx" / "jianjian.conf"
PORTS = range(8180, 8200)  # this project's share of the machine's ports
COMMUNITY = "district-a"
PHONE = "13800138000"


# --- what is installed ---------------------------------------------------------------------------


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None
    )


def postgres_admin_url() -> str:
    """The server the district's throw-away database is made on (the suite's, when on it)."""
    return os.environ.get("JIANJIAN_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432")


def postgres_reachable(admin_url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(f"{admin_url}/postgres", connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@contextmanager
def postgres_database(admin_url: str, prefix: str) -> Iterator[str]:
    """A new, empty database (dropped afterwards, whoever still holds it); yields its URL."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{admin_url}/postgres", autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url}/{name}"
    finally:
        with psycopg.connect(f"{admin_url}/postgres", autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_ports(count: int) -> list[int]:
    """``count`` ports of PORTS that nothing listens on (connect, do not bind: a port in
    TIME_WAIT after a killed node is free to listen on again)."""
    found = []
    for port in PORTS:
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) != 0:
                found.append(port)
        if len(found) == count:
            return found
    raise RuntimeError(f"fewer than {count} free ports in {PORTS}")


# --- processes -----------------------------------------------------------------------------------


class Proc:
    """A restartable child in its own session."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.args, self.env, self.log = name, args, env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                self.args, env=self.env, stdout=out, stderr=out, start_new_session=True
            )

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole process group: no handler runs, nothing is flushed."""
        if self.proc is not None:
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.alive:
            assert self.proc is not None
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_listening(port: int, deadline: float, proc: Proc | None = None) -> None:
    while time.monotonic() < deadline:
        if proc is not None and proc.proc is not None and proc.proc.poll() is not None:
            raise RuntimeError(f"{proc.name} exited; see {proc.log}")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)  # not listening yet; bounded by the deadline
    raise RuntimeError(f"nothing listens on {port}")


def jianjian(*args: str, env: dict[str, str], check: bool = True) -> str:
    done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"jianjian {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


# --- nginx ---------------------------------------------------------------------------------------


def make_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "tls.crt", folder / "tls.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def render_site(https_port: int, http_port: int, nodes: list[int], cert: Path, key: Path) -> str:
    upstreams = " ".join(f"server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in nodes)
    text = NGINX_SITE.read_text()
    for name, value in {
        "@SERVER_NAME@": "127.0.0.1 localhost",
        "@HTTPS_PORT@": str(https_port),
        "@HTTP_PORT@": str(http_port),
        "@TLS_CERT@": str(cert),
        "@TLS_KEY@": str(key),
        "@WEB_NODES@": upstreams,
    }.items():
        text = text.replace(name, value)
    code = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    assert not re.search(r"@[A-Z_]+@", "\n".join(code)), "a placeholder was left unrendered"
    return text


class Nginx(Proc):
    """Debian's nginx as a child process with its own prefix, pid, logs and temp folders."""

    def __init__(self, folder: Path, https_port: int, http_port: int, nodes: list[int]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        cert, key = make_certificate(folder)
        (folder / "site.conf").write_text(render_site(https_port, http_port, nodes, cert, key))
        user = "user root;" if os.geteuid() == 0 else ""  # workers may read the temp folders
        (folder / "nginx.conf").write_text(
            f"""{user}
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
daemon off;
events {{ worker_connections 512; }}
http {{
    log_format upstream '$request_method $uri $status $upstream_addr';
    access_log {folder}/access.log upstream;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/site.conf;
}}
"""
        )
        binary = nginx_binary() or "nginx"
        args = [binary, "-p", str(folder), "-c", str(folder / "nginx.conf")]
        args += ["-e", str(folder / "error.log")]
        super().__init__("nginx", args, {"PATH": os.environ.get("PATH", "")}, folder / "out.log")
        self.folder, self.port, self.cert = folder, https_port, cert

    def upstreams_seen(self) -> Counter[str]:
        """Which node answered, by upstream address, from the access log."""
        log = self.folder / "access.log"
        lines = log.read_text().splitlines() if log.exists() else []
        return Counter(line.rsplit(" ", 1)[-1] for line in lines if line)


# --- the district --------------------------------------------------------------------------------


@dataclass
class District:
    """N web nodes + nginx + M workers on one database; every node has its own data folder, and
    all share the secret key (sessions signed by one are read by the others)."""

    folder: Path
    database_url: str
    nodes: int = 2
    workers: int = 2
    claim_seconds: int = 5
    webs: list[Proc] = field(default_factory=list)
    worker_procs: list[Proc] = field(default_factory=list)
    nginx: Nginx | None = None
    web_ports: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        ports = free_ports(self.nodes + 2)
        https, http, self.web_ports = ports[0], ports[1], ports[2:]
        self.secret = uuid.uuid4().hex * 2
        self.base = f"https://127.0.0.1:{https}"
        self.nginx = Nginx(self.folder / "nginx", https, http, self.web_ports)
        self.webs = [
            Proc(
                f"web{i + 1}",
                [
                    *CLI,
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--workers",
                    "1",
                    "--no-worker",
                    "--no-backup",
                ],
                self.env(f"web{i + 1}"),
                self.folder / f"web{i + 1}.log",
            )
            for i, port in enumerate(self.web_ports)
        ]
        self.worker_procs = [
            Proc(f"worker{i + 1}", [*CLI, "worker"], self.env(f"worker{i + 1}"),
                 self.folder / f"worker{i + 1}.log")
            for i in range(self.workers)
        ]  # fmt: skip

    def env(self, name: str = "admin") -> dict[str, str]:
        data = self.folder / name
        data.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("JIANJIAN_")}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        return env | {
            "JIANJIAN_DATA_DIR": str(data),
            "JIANJIAN_DATABASE_URL": self.database_url,
            "JIANJIAN_SECRET_KEY": self.secret,
            "JIANJIAN_PROXY_COUNT": "1",
            "JIANJIAN_SECURE_COOKIES": "true",
            "JIANJIAN_CSRF_TRUSTED_ORIGINS": self.base,
            "JIANJIAN_WORKER_POLL_SECONDS": "1",
            "JIANJIAN_NOTIFY_CLAIM_SECONDS": str(self.claim_seconds),
            "JIANJIAN_BACKUP_DAILY": "false",
            "JIANJIAN_LOG_LEVEL": "WARNING",
        }

    @property
    def cafile(self) -> Path | None:
        return self.nginx.cert if self.nginx is not None else None

    def start_web(self) -> None:
        assert self.nginx is not None
        for web in self.webs:
            web.start()
        self.nginx.start()
        deadline = time.monotonic() + 120
        for web, port in zip(self.webs, self.web_ports, strict=True):
            wait_listening(port, deadline, web)
        wait_listening(self.nginx.port, deadline, self.nginx)

    def start_workers(self) -> None:
        for worker in self.worker_procs:
            worker.start()

    def restart(self, proc: Proc) -> None:
        proc.start()
        if proc in self.webs:
            wait_listening(self.web_ports[self.webs.index(proc)], time.monotonic() + 120, proc)

    def stop(self) -> None:
        for proc in [*self.worker_procs, *self.webs]:
            proc.stop()
        if self.nginx is not None:
            self.nginx.stop(signal.SIGQUIT)

    def delivery_logs(self) -> dict[str, Path]:
        return {w.name: self.folder / w.name / "notifications.log" for w in self.worker_procs}


# --- the world the counter app works in ----------------------------------------------------------

WORLD = r"""
import datetime as dt, json
from django.contrib.auth import get_user_model
from jianjian.communities.models import Community, Membership, StaffRole
from jianjian.couriers.models import Carrier, Courier
from jianjian.points.models import CollectionPoint, PointKind, Slot, uniform_hours

community, _ = Community.objects.get_or_create(slug=%(slug)r, defaults={"name": "区测试社区"})
point, made = CollectionPoint.objects.get_or_create(
    community=community, code="A",
    defaults={"name": "代收点A", "kind": PointKind.COUNTER, "daily_capacity": 10**6,
              "hours": uniform_hours(dt.time(0, 0), dt.time(23, 59))},
)
if made:
    Slot.objects.bulk_create(Slot(community=community, point=point, shelf=s, tier=t)
                             for s in range(1, 6) for t in range(1, 6))
User = get_user_model()
for name in (%(clerk)r, %(locked)r):
    clerk = User.objects.filter(username=name).first()
    if clerk is None:
        clerk = User.objects.create_user(name, password=%(password)r)
    membership, _ = Membership.objects.get_or_create(
        user=clerk, community=community, defaults={"role": StaffRole.CLERK})
    membership.points.add(point)
courier = Courier.objects.filter(name="区测试顺丰").first() or Courier.objects.create(
    carrier=Carrier.objects.get(code="sf"), name="区测试顺丰", phone="13700009999")
courier.communities.add(community)
print(json.dumps({"point": point.pk, "courier": courier.pk}))
"""

PASSWORD = "district-pass-0123"
CLERK = "district-clerk"
LOCKED = "district-locked"  # the sign-in lockout test's victim, so the clerk stays usable


def make_world(env: dict[str, str], slug: str = COMMUNITY) -> dict[str, Any]:
    """The community, its point, a clerk and a courier; and the clerk's API token."""
    out = jianjian("manage", "shell", "-v0", "-c",
                   WORLD % {"slug": slug, "password": PASSWORD, "clerk": CLERK, "locked": LOCKED}, env=env)  # fmt: skip
    world = json.loads(out.strip().splitlines()[-1])
    token = jianjian(
        "manage", "create_api_token", f"counter-app-{slug}", "--role", "clerk",
        "--user", CLERK, "--community", slug, env=env,
    )  # fmt: skip
    world["token"] = token.strip().splitlines()[-1]
    world["community"] = slug
    return world


# --- the counter app -----------------------------------------------------------------------------


@dataclass
class Ledger:
    """What the clients sent and what the server acknowledged: (op, tracking number)."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    acked: list[tuple[str, str]] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, kind: str, counter: Counter[str]) -> None:
        with self.lock:
            counter[kind] += 1


RETRY = {502, 503, 504}


def _lower(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


class CounterApp:
    """What a counter app does: POST with a fresh Idempotency-Key per action; when the answer
    does not come (timeout, connection cut, 502/503/504 from the proxy), send the same request
    with the same key again. A key still "in progress" long after (its node died holding it) is
    given up for a new one: the action is itself safe to repeat (a re-scan is recognised, a
    second hand-over refused)."""

    def __init__(self, base: str, token: str, cafile: Path | None = None, timeout: float = 10):
        self.base, self.token, self.timeout = base, token, timeout
        self.context = ssl.create_default_context(cafile=str(cafile)) if cafile else None

    def post(self, path: str, body: dict[str, Any], key: str,
             token: str | None = None) -> tuple[int, dict[str, Any], dict[str, str]]:  # fmt: skip
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode(),
            headers={
                "Authorization": f"Bearer {token or self.token}",
                "Content-Type": "application/json",
                "Idempotency-Key": key,
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=self.context) as r:
                return r.status, json.loads(r.read() or b"{}"), _lower(r.headers)
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                return exc.code, json.loads(raw or b"{}"), _lower(exc.headers)
            except ValueError:
                return exc.code, {}, _lower(exc.headers)

    def act(self, path: str, body: dict[str, Any], ledger: Ledger,
            give_up: float = 90) -> tuple[int, dict[str, Any]]:  # fmt: skip
        """Send until a definite answer (2xx or a 4xx refusal); (0, {}) if none by ``give_up``."""
        key, key_since = uuid.uuid4().hex, time.monotonic()
        deadline = time.monotonic() + give_up
        while time.monotonic() < deadline:
            try:
                status, answer, _headers = self.post(path, body, key)
            except OSError as exc:  # timeout, reset, refused: the answer never came
                ledger.note(type(exc).__name__, ledger.errors)
                time.sleep(0.3)  # the counter app's back-off before it sends again
                continue
            if status in RETRY:
                ledger.note(
                    f"{status} {answer.get('error', answer.get('code', ''))}", ledger.errors
                )
                time.sleep(0.3)
                continue
            if status == 409 and answer.get("code") in ("idempotency_in_progress",
                                                        "idempotency_retry"):  # fmt: skip
                ledger.note(answer["code"], ledger.errors)
                if time.monotonic() - key_since > 8:
                    ledger.note("key given up (in progress after 8 s)", ledger.errors)
                    key, key_since = uuid.uuid4().hex, time.monotonic()
                time.sleep(0.3)
                continue
            return status, answer
        return 0, {}


def client_loop(app: CounterApp, world: dict[str, Any], ledger: Ledger,
                stop: threading.Event, seed: int) -> None:  # fmt: skip
    """Intake, hand-over and return in a random mix until ``stop``."""
    rnd = random.Random(seed)
    waiting: list[tuple[str, int]] = []  # acknowledged intakes: (number, parcel id)
    n = 0
    while not stop.is_set():
        roll = rnd.random()
        if waiting and roll < 0.3:
            op, (number, pk) = "pickup", waiting.pop(rnd.randrange(len(waiting)))
            path, body = f"/api/v1/parcels/{pk}/hand-over", {"method": "code"}
        elif waiting and roll < 0.4:
            op, (number, pk) = "return", waiting.pop(rnd.randrange(len(waiting)))
            path, body = f"/api/v1/parcels/{pk}/return", {"courier_id": world["courier"]}
        else:
            n += 1
            op, number = "intake", f"SF{seed:04d}{n:09d}"
            path = "/api/v1/parcels/intake"
            body = {"point_id": world["point"], "tracking_number": number, "phone": PHONE}
        with ledger.lock:
            ledger.sent.append((op, number))
        status, answer = app.act(path, body, ledger)
        if status == 200:
            with ledger.lock:
                ledger.acked.append((op, number))
            if op == "intake":
                waiting.append((number, answer["parcel"]["id"]))
        elif status:
            # A definite refusal, e.g. the retry of a hand-over whose first answer was lost
            # with a killed node: it had gone through, and the parcel is no longer at the point.
            ledger.note(f"{op} {status} {answer.get('code', '')}", ledger.refused)
        else:
            ledger.note(f"{op} no answer", ledger.refused)


# --- the counts ----------------------------------------------------------------------------------

VERIFY = r"""
import json, sys
from collections import Counter
from django.db.models import Q
from django.utils import timezone
from jianjian.notify.models import Notification
from jianjian.parcels.models import CustodyEvent, Parcel
from jianjian.parcels.fold import check
sent = json.load(open(%(ledger)r))
slug = %(slug)r
kinds = {"intake": "intake", "pickup": "hand_over", "return": "return"}
events = Counter(
    (t, k) for t, k in CustodyEvent.objects.filter(community__slug=slug)
    .values_list("parcel__tracking_number", "kind")
)
numbers = set(Parcel.objects.filter(community__slug=slug).values_list("tracking_number", flat=True))
acked = [(op, n) for op, n in sent["acked"]]
found = sum(1 for op, n in acked if events[(n, kinds[op])] >= 1)
report = check(None)
now = timezone.now()
due = Q(status="pending", next_attempt_at__lte=now) | Q(status="sending", claimed_until__lt=now)
claimed = Notification.objects.filter(status="sending", claimed_until__gte=now)
print(json.dumps({
    "sent": len(sent["sent"]), "acknowledged": len(acked), "found": found,
    "duplicates": sum(1 for c in events.values() if c > 1), "lost": len(acked) - found,
    "unsent_present": len(numbers - {n for _op, n in sent["sent"]} - set(sent["extra"])),
    "parcels": len(numbers), "events": sum(events.values()),
    "check_differences": len(report.problems), "check_problems": report.problems[:5],
    "notifications": Notification.objects.count(),
    "sent_ids": list(Notification.objects.filter(status="sent").values_list("pk", flat=True)),
    "due_not_delivered": Notification.objects.filter(due).count(),
    "claimed_by_killed_worker": claimed.count(),
    "failed": Notification.objects.filter(status="failed").count(),
}))
"""


def count(env: dict[str, str], ledger: Ledger, slug: str = COMMUNITY,
          extra: list[str] | None = None) -> dict[str, Any]:  # fmt: skip
    """What the database says after the run, against what the clients sent and were told."""
    folder = Path(env["JIANJIAN_DATA_DIR"])
    ledger_file = folder / "ledger.json"
    with ledger.lock:
        ledger_file.write_text(
            json.dumps({"sent": ledger.sent, "acked": ledger.acked, "extra": extra or []})
        )
    out = jianjian("manage", "shell", "-v0", "-c",
                   VERIFY % {"ledger": str(ledger_file), "slug": slug}, env=env)  # fmt: skip
    return dict(json.loads(out.strip().splitlines()[-1]))


def deliveries(logs: dict[str, Path]) -> dict[str, list[int]]:
    """Message ids each worker wrote to its log channel, in order (a line cut short by a kill
    is not a delivery)."""
    out: dict[str, list[int]] = {}
    for name, path in logs.items():
        ids = []
        for line in path.read_text().splitlines() if path.exists() else []:
            try:
                ids.append(int(json.loads(line)["id"]))
            except (ValueError, KeyError, TypeError):
                continue
        out[name] = ids
    return out


def outbox_waiting(database_url: str) -> int:
    """Messages due within a minute that are not delivered yet (pending, or claimed)."""
    import psycopg

    with psycopg.connect(database_url) as con:
        row = con.execute(
            "SELECT count(*) FROM notify_notification WHERE status IN ('pending', 'sending')"
            " AND next_attempt_at <= now() + interval '1 minute'"
        ).fetchone()
    return int(row[0]) if row else 0


def outbox_settled(database_url: str, deadline: float) -> bool:
    """Wait until the workers have delivered everything due (killed workers' claims expire)."""
    while time.monotonic() < deadline:
        if outbox_waiting(database_url) == 0:
            return True
        time.sleep(0.5)  # the workers poll every second; bounded by the deadline
    return False
