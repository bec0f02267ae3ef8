"""Real worker processes: one killed (SIGKILL) mid-batch loses nothing; two at once send each
notification once. Delivery is at-least-once: a worker killed between the provider's answer and
recording it causes at most one duplicate (the one message it had in flight)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from django.conf import settings as django_settings
from django.db import connection

from jianjian.notify.messages import SMS_PARAMS
from jianjian.notify.models import Notification, Status
from jianjian.parcels import services
from tests.factories import make_world, tracking
from tests.notify import peers
from tests.notify.conftest import prefer


def _database_url() -> str:
    db = django_settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def _worker_env(peer: peers.ProviderPeer, claim_seconds: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        JIANJIAN_DATABASE_URL=_database_url(),
        JIANJIAN_SMS_PROVIDER="tencent",
        JIANJIAN_TENCENT_SMS_SECRET_ID=peers.TENCENT_ID,
        JIANJIAN_TENCENT_SMS_SECRET_KEY=peers.TENCENT_KEY,
        JIANJIAN_TENCENT_SMS_SDK_APP_ID="1400000001",
        JIANJIAN_TENCENT_SMS_SIGN_NAME="件件有着落",
        JIANJIAN_TENCENT_SMS_ENDPOINT=f"{peer.url}/tencent/",
        JIANJIAN_NOTIFY_CLAIM_SECONDS=str(claim_seconds),
        JIANJIAN_WORKER_POLL_SECONDS="1",
        **{f"JIANJIAN_SMS_TEMPLATE_{c.upper()}": f"10{i}" for i, c in enumerate(SMS_PARAMS)},
    )
    return env


def _start(peer: peers.ProviderPeer, claim_seconds: int = 3) -> subprocess.Popen[bytes]:
    """A worker process; a killed worker's claims come due again after ``claim_seconds``."""
    return subprocess.Popen(
        [sys.executable, "-m", "jianjian.cli", "worker"],
        env=_worker_env(peer, claim_seconds),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for(
    condition: Callable[[], bool],
    what: str,
    procs: list[subprocess.Popen[bytes]],
    timeout: float = 90,
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        dead = [p for p in procs if p.poll() is not None and p.returncode != -signal.SIGKILL]
        if dead or time.monotonic() > deadline:
            errors = b"".join(p.stderr.read() if p.stderr else b"" for p in dead)
            pytest.fail(f"timed out waiting for {what}: {errors.decode()[-2000:]}")
        time.sleep(0.05)


def _queue(count: int) -> list[str]:
    world = make_world(capacity=1000)
    world.community.quiet_start = world.community.quiet_end  # no quiet hours: any time of day
    world.community.save()
    for resident in world.residents:
        prefer(resident, "sms")
    for i in range(count):
        resident = world.residents[i % 2]
        services.intake(world.counter, tracking(), actor=world.clerk, phone=resident.phone)
    return list(Notification.objects.values_list("dedup_key", flat=True))


@pytest.fixture
def workers() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _all_sent() -> bool:
    return not Notification.objects.exclude(status=Status.SENT).exists()


@pytest.mark.django_db(transaction=True)
def test_killed_worker_loses_nothing(peer, workers):
    keys = _queue(30)
    peer.delay = 0.1  # slow provider: the worker is surely mid-batch when killed
    first = _start(peer)
    workers.append(first)
    _wait_for(lambda: len(peer.received) >= 5, "the first worker to send some", workers)
    first.send_signal(signal.SIGKILL)
    first.wait()
    stuck = Notification.objects.filter(status=Status.SENDING).count()
    assert stuck > 0, "the kill left claimed rows behind"

    workers.append(_start(peer))
    _wait_for(_all_sent, "every notification to be sent", workers)
    sent = Counter(r.key for r in peer.received)
    assert set(sent) == set(keys), "none lost"
    assert sum(sent.values()) - len(keys) <= 1, "at most the one in flight is sent twice"
    assert peer.rejected == []


@pytest.mark.django_db(transaction=True)
def test_two_workers_send_each_notification_once(peer, workers):
    keys = _queue(40)
    peer.delay = 0.02
    # Nobody dies here, so no claim may run out: a lease as long as a real deployment's. (With the
    # kill tests' 3 s, a loaded machine can take longer than that over one claimed batch, and the
    # other worker would rightly send its rows again.)
    workers.extend([_start(peer, claim_seconds=120), _start(peer, claim_seconds=120)])
    _wait_for(_all_sent, "every notification to be sent", workers)
    sent = Counter(r.key for r in peer.received)
    assert sent == Counter(keys)
    assert peer.rejected == []
