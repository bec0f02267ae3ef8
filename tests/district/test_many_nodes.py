"""A district's topology, for real: two `jianjian serve --no-worker` nodes behind Debian's nginx
(TLS, the config of deploy/nginx/) and two `jianjian worker` processes, all on one PostgreSQL.

The counter app drives intake, hand-over and return through nginx with bearer tokens and
`Idempotency-Key` retries while one web node and one worker are killed with SIGKILL. Afterwards:
nothing acknowledged is lost, nothing is recorded twice, `jianjian check` is clean, and every due
notification was delivered — once, but for the one message the killed worker may have been
sending at the moment it died (delivery is at-least-once, and says so).

Also: a session, the sign-in lockout, an idempotency key and a revoked token mean the same
whichever node answers.

Runs on its own PostgreSQL database whichever database the rest of the suite uses. Outside CI it
is skipped when nginx or PostgreSQL is missing; under CI (`CI=true`) that is a failure.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import os
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator

import pytest

from tests.district import topology as t


def _require(condition: bool, why: str) -> None:
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the many-node test: {why}")
    pytest.skip(why)


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[t.District, dict]]:
    admin = t.postgres_admin_url()
    _require(t.nginx_binary() is not None, "nginx is not installed (apt-get install nginx)")
    _require(t.postgres_reachable(admin), f"PostgreSQL is not reachable at {admin}")
    prefix = os.environ.get("JIANJIAN_TEST_DB_PREFIX", "jj_district")
    with t.postgres_database(admin, prefix) as url:
        d = t.District(tmp_path_factory.mktemp("district"), url)
        env = d.env()
        t.jianjian("migrate", "-v0", env=env)
        world = t.make_world(env)
        try:
            d.start_web()
            yield d, world
        finally:
            d.stop()


def _app(d: t.District, world: dict) -> t.CounterApp:
    assert d.nginx is not None
    return t.CounterApp(d.base, world["token"], d.nginx.cert)


def _served_by(d: t.District, before: Counter[str]) -> set[str]:
    assert d.nginx is not None
    after = d.nginx.upstreams_seen()
    return {addr for addr, n in after.items() if n > before.get(addr, 0)}


def _browser(d: t.District) -> urllib.request.OpenerDirector:
    assert d.nginx is not None
    context = ssl.create_default_context(cafile=str(d.nginx.cert))
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(jar), urllib.request.HTTPSHandler(context=context)
    )
    opener.jar = jar  # type: ignore[attr-defined]
    return opener


def _sign_in(
    d: t.District, opener: urllib.request.OpenerDirector, password: str, user: str = t.CLERK
) -> None:
    opener.open(d.base + "/login/", timeout=10).read()
    csrf = next(c.value for c in opener.jar if c.name == "csrftoken")  # type: ignore[attr-defined]
    data = urllib.parse.urlencode(
        {"username": user, "password": password, "csrfmiddlewaretoken": csrf}
    ).encode()
    request = urllib.request.Request(
        d.base + "/login/", data=data, headers={"Referer": d.base + "/login/"}
    )
    # A refused sign-in answers 200 with the form again, or an error status when locked out.
    with contextlib.suppress(urllib.error.HTTPError):
        opener.open(request, timeout=10).read()


def _api_status(d: t.District, opener: urllib.request.OpenerDirector) -> int:
    try:
        with opener.open(d.base + "/api/v1/parcels?limit=1", timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_a_session_is_good_on_every_node(district):
    d, _world = district
    assert d.nginx is not None
    browser = _browser(d)
    _sign_in(d, browser, t.PASSWORD)
    before = d.nginx.upstreams_seen()
    assert [_api_status(d, browser) for _ in range(4)] == [200] * 4
    assert len(_served_by(d, before)) == 2, "round robin should have asked both nodes"


def test_the_sign_in_lockout_counts_across_nodes(district):
    d, _world = district
    assert d.nginx is not None
    before = d.nginx.upstreams_seen()
    for _ in range(5):  # AXES_FAILURE_LIMIT wrong passwords, spread over both nodes
        _sign_in(d, _browser(d), "wrong-password", t.LOCKED)
    assert len(_served_by(d, before)) == 2
    browser = _browser(d)
    _sign_in(d, browser, t.PASSWORD, t.LOCKED)  # the right one, now locked out
    assert _api_status(d, browser) == 401


def test_an_idempotency_key_is_replayed_by_the_other_node(district):
    d, world = district
    app, before = _app(d, world), d.nginx.upstreams_seen()  # type: ignore[union-attr]
    body = {"point_id": world["point"], "tracking_number": "SF7000000000001", "phone": t.PHONE}
    answers = [app.post("/api/v1/parcels/intake", body, "one-key") for _ in range(4)]
    assert {status for status, _a, _h in answers} == {200}
    assert len({a["parcel"]["id"] for _s, a, _h in answers}) == 1
    assert [h.get("idempotent-replayed") for _s, _a, h in answers] == [None] + ["true"] * 3
    assert len(_served_by(d, before)) == 2
    changed = app.post("/api/v1/parcels/intake", body | {"phone": "13900139000"}, "one-key")
    assert changed[0] == 422  # the same key with another request, whichever node has it


def test_a_revoked_token_is_refused_by_every_node(district):
    d, world = district
    env = d.env()
    token = t.jianjian(
        "manage", "create_api_token", "revoked-soon", "--role", "clerk",
        "--user", "district-clerk", "--community", world["community"], env=env,
    ).strip().splitlines()[-1]  # fmt: skip
    app = t.CounterApp(d.base, token, d.nginx.cert)  # type: ignore[union-attr]
    body = {"point_id": world["point"], "tracking_number": "SF7000000000002", "phone": t.PHONE}
    assert [app.post("/api/v1/parcels/intake", body, f"k{i}")[0] for i in range(2)] == [200] * 2
    t.jianjian("manage", "shell", "-v0", "-c",
               "from jianjian.couriers.models import ApiToken;"
               "ApiToken.objects.filter(name='revoked-soon').update(active=False)", env=env)  # fmt: skip
    before = d.nginx.upstreams_seen()  # type: ignore[union-attr]
    refused = {app.post("/api/v1/parcels/intake", body, f"r{i}")[0] for i in range(4)}
    assert len(refused) == 1 and refused <= {401, 403}
    assert len(_served_by(d, before)) == 2


def _backdate_reminders(database_url: str, slug: str, count: int) -> list[int]:
    """Parcels taken in a day ago (time travel for the test): their first reminder is due."""
    import psycopg

    with psycopg.connect(database_url) as con:
        rows = con.execute(
            "UPDATE parcels_parcel SET intake_at = intake_at - interval '25 hours',"
            " next_reminder_at = now() - interval '1 minute'"
            " WHERE id IN (SELECT p.id FROM parcels_parcel p JOIN communities_community c"
            " ON c.id = p.community_id WHERE c.slug = %s AND p.state = 'at_point'"
            " ORDER BY p.id LIMIT %s) RETURNING id",
            [slug, count],
        ).fetchall()
    return [r[0] for r in rows]


def _reminders_of(database_url: str, parcels: list[int]) -> Counter[int]:
    import psycopg

    with psycopg.connect(database_url) as con:
        rows = con.execute(
            "SELECT parcel_id FROM notify_notification WHERE cause = 'reminder'"
            " AND parcel_id = ANY(%s)",
            [parcels],
        ).fetchall()
    return Counter(r[0] for r in rows)


def test_killing_a_node_and_a_worker_loses_nothing_and_doubles_nothing(district):
    d, world = district
    app = _app(d, world)
    ledger, stop = t.Ledger(), threading.Event()
    # Before the workers start: parcels whose reminder is due, for both workers' sweeps at once.
    for i in range(8):
        number = f"SF71000000{i:05d}"
        body = {"point_id": world["point"], "tracking_number": number, "phone": t.PHONE}
        assert app.act("/api/v1/parcels/intake", body, ledger)[0] == 200
        ledger.sent.append(("intake", number))
        ledger.acked.append(("intake", number))
    due = _backdate_reminders(d.database_url, world["community"], 8)
    assert len(due) == 8
    d.start_workers()

    clients = [
        threading.Thread(target=t.client_loop, args=(app, world, ledger, stop, seed))
        for seed in (1, 2, 3)
    ]
    for c in clients:
        c.start()
    victim_web, victim_worker = d.webs[0], d.worker_procs[0]
    try:
        _wait_for_acks(ledger, 40)
        victim_web.kill()  # mid-load: its requests in flight get no answer
        _wait_for_acks(ledger, 80)
        victim_worker.kill()  # it may hold claimed messages, or be mid-send
        _wait_for_acks(ledger, 120)
        d.restart(victim_web)  # as systemd would
        _wait_for_acks(ledger, 160)
    finally:
        stop.set()
        for c in clients:
            c.join(timeout=120)
    assert not any(c.is_alive() for c in clients)
    # The surviving worker takes over the dead one's claims once they expire (5 s here).
    assert t.outbox_settled(d.database_url, time.monotonic() + 120), "the outbox never drained"
    for worker in d.worker_procs:
        worker.stop()

    env = d.env()
    figures = t.count(env, ledger, extra=["SF7000000000001", "SF7000000000002"])
    assert figures["lost"] == 0, figures
    assert figures["duplicates"] == 0, figures
    assert figures["unsent_present"] == 0, figures
    assert figures["check_differences"] == 0, figures["check_problems"]
    assert figures["due_not_delivered"] == 0 and figures["failed"] == 0, figures
    # Every acknowledged intake, hand-over and return queued its message; all were delivered.
    assert figures["notifications"] >= figures["acknowledged"]
    delivered = t.deliveries(d.delivery_logs())
    seen = Counter(i for ids in delivered.values() for i in ids)
    assert set(figures["sent_ids"]) <= set(seen), "a message marked sent is in no delivery log"
    twice = {i for i, n in seen.items() if n > 1}
    killed_last = delivered[victim_worker.name][-1:]  # what it was sending when it died
    assert twice <= set(killed_last), f"delivered twice: {twice}"
    # The sweeps of two workers at once: one reminder per due parcel (and its one channel).
    assert _reminders_of(d.database_url, due) == Counter({pk: 1 for pk in due})


def _wait_for_acks(ledger: t.Ledger, at_least: int, timeout: float = 120) -> None:
    """Let the load run until the clients have ``at_least`` acknowledgements (not a fixed time:
    the machine may be slow)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with ledger.lock:
            if len(ledger.acked) >= at_least:
                return
        time.sleep(0.1)
    raise AssertionError(
        f"the clients got only {len(ledger.acked)} answers; errors {ledger.errors}"
    )


def test_jianjian_check_is_clean_after_everything(district):
    d, _world = district
    done = subprocess.run(
        [*t.CLI, "check"], env=d.env(), capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
