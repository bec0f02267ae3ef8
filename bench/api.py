"""API benchmarks: jianjian's intake beside the bare framework's floor, and a 100k manifest.

    .venv/bin/python bench/api.py --only intake   # floor and jianjian side by side, with ratios
    .venv/bin/python bench/api.py --only intake --seconds 10 --port 8170 --floor-db my_floor
    .venv/bin/python bench/api.py --profile       # also: where a scan's and a batch's time goes
    .venv/bin/python bench/api.py --only manifest # only the 100k manifest import

The intake load is Debian's ``wrk`` (16 connections by default) against two granian servers of
2 workers started here: ``jianjian serve --no-worker --no-backup`` and the floor of
``bench/floor/`` (Django + django-ninja: look up the recipient, insert a parcel and an event in
one transaction; a batch of 50 with bulk inserts). One run measures, in order: the floor's single
scan, jianjian's ``POST /api/v1/parcels/intake`` (known recipient), the clerk's counter scan (the
htmx form POST of a signed-in clerk), the floor's batch of 50 and jianjian's batch of 50 (4
connections, each at its own point), then prints them side by side with the ratios and the
targets. PostgreSQL only (``JIANJIAN_BENCH_DB`` names jianjian's database). The latest results
and the machine go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import http.client
import io
import itertools
import os
import pstats
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import cpu
from bench._setup import configure, machine, percentile
from bench.floor import wrk

PHONES = 2000  # residents with a phone, in both jianjian and the floor


def setup_community(flats_per_building: int = 100, buildings: int = 20):  # type: ignore[no-untyped-def]
    """A community with 2,000 flats, 2 counters with many shelf slots and a clerk token."""
    from django.contrib.auth import get_user_model

    from jianjian.communities.models import Building, Community, Flat, Membership, StaffRole
    from jianjian.couriers.tokens import create_token
    from jianjian.points.models import CollectionPoint, PointKind, Slot

    community = Community.objects.create(name="基准社区", slug="bench")
    flats = []
    for b in range(1, buildings + 1):
        building = Building.objects.create(community=community, number=str(b))
        flats += [
            Flat(
                community=community,
                building=building,
                entrance=str(1 + n % 4),
                number=str(101 + n),
                code=f"{b}-{1 + n % 4}-{101 + n}",
            )
            for n in range(flats_per_building)
        ]
    Flat.objects.bulk_create(flats)
    points = []
    for code, cap in (("A", 50), ("B", 50)):
        point = CollectionPoint.objects.create(
            community=community,
            code=code,
            name=f"counter {code}",
            kind=PointKind.COUNTER,
            daily_capacity=cap,
        )
        Slot.objects.bulk_create(
            Slot(community=community, point=point, shelf=s, tier=t)
            for s in range(1, 11)
            for t in range(1, 6)
        )
        points.append(point)
    clerk = get_user_model().objects.create_user("bench-clerk")
    Membership.objects.create(user=clerk, community=community, role=StaffRole.CLERK).points.add(
        *points
    )
    _token, raw = create_token("bench", role="clerk", user=clerk)
    return community, points, raw


def add_residents(community, count: int) -> None:  # type: ignore[no-untyped-def]
    """Residents with the phones the scans carry: every scan finds its recipient."""
    from jianjian.communities.models import Resident

    flats = list(community.flats.order_by("pk")[:count])
    Resident.objects.bulk_create(
        Resident(
            community=community,
            flat=flats[n % len(flats)],
            name=f"住户{n}",
            phone=f"+86{phone(n)}",
            phone_last4=phone(n)[-4:],
        )
        for n in range(count)
    )


def more_points(community, codes: list[str]) -> list:  # type: ignore[no-untyped-def]
    """Counters like A and B, added after the manifest (whose allocation sees only A and B)."""
    from jianjian.communities.models import Membership
    from jianjian.points.models import CollectionPoint, PointKind, Slot

    points = []
    for code in codes:
        point = CollectionPoint.objects.create(
            community=community, code=code, name=f"counter {code}", kind=PointKind.COUNTER
        )
        Slot.objects.bulk_create(
            Slot(community=community, point=point, shelf=s, tier=t)
            for s in range(1, 11)
            for t in range(1, 6)
        )
        points.append(point)
    Membership.objects.get(community=community, user__username="bench-clerk").points.add(*points)
    return points


def phone(n: int) -> str:
    return f"138{n % 100_000_000:08d}"


def manifest_csv(rows: int, flats: list[str]) -> bytes:
    out = io.StringIO()
    out.write("tracking_number,phone,flat,name\n")
    rnd = random.Random(5)
    for n in range(rows):
        out.write(
            f"SF{2_000_000_000_000 + n},{phone(rnd.randrange(5000))},{rnd.choice(flats)},收件人\n"
        )
    return out.getvalue().encode()


def bench_manifest(community, rows: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Import a ``rows``-parcel CSV manifest, timing each phase.

    ``total_s`` is what a sender waits for: read, then :func:`manifests.import_rows` (validate,
    announce, allocate). The validation alone is timed on a separate read-only pass before it, and
    the allocation alone is the re-allocation afterwards (the same work over the same parcels).
    """
    from jianjian.couriers import allocation, manifests
    from jianjian.parcels import services

    flats = list(community.flats.values_list("code", flat=True))
    data = manifest_csv(rows, flats)
    t0 = time.perf_counter()
    parsed = manifests.read_file("bench.csv", data)
    t1 = time.perf_counter()
    manifests.validate(community, parsed)
    t_validate = time.perf_counter() - t1
    t2 = time.perf_counter()
    report = manifests.import_rows(
        community, parsed, actor=services.Actor.system("bench"), source="csv"
    )
    t3 = time.perf_counter()
    assert report.accepted and report.imported == rows, report.errors[:3]
    allocation.reallocate(community)
    t4 = time.perf_counter()
    again = manifests.import_rows(
        community, parsed, actor=services.Actor.system("bench"), source="csv"
    )
    t5 = time.perf_counter()
    assert again.replayed and again.imported == 0
    return {
        "rows": rows,
        "read_s": t1 - t0,
        "validate_s": t_validate,
        "validate_import_allocate_s": t3 - t2,
        "total_s": (t1 - t0) + (t3 - t2),
        "reallocate_again_s": t4 - t3,
        "resend_s": t5 - t4,
        "planned": report.planned,
        "overflow": report.overflow,
    }


def autovacuum() -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        return bool(cursor.fetchone()[0] == "on")


def run_sql(sql: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)
    connection.close()  # granian's workers hold their own connections; keep ours short


ROOT = Path(__file__).resolve().parent.parent


def _wait_until_up(proc: subprocess.Popen[bytes], port: int, path: str) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit(f"the server on port {port} stopped (exit code {proc.returncode})")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"the server on port {port} did not start")


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """``jianjian serve`` as deployed, 2 workers, without the worker and the backups beside it."""
    cmd = [sys.executable, "-m", "jianjian.cli", "serve", "--no-worker", "--no-backup"]
    cmd += ["--port", str(port), "--workers", "2"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_until_up(proc, port, "/api/v1/openapi.json")
    return proc


def floor_database(name: str, phones: int) -> str:
    """A fresh database for the floor with its tables and recipients; returns its URL."""
    for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
        subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-c", sql], check=True)
    url = f"postgres://postgres@127.0.0.1:5432/{name}"
    env = {**os.environ, "FLOOR_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run(
        [sys.executable, "-m", "bench.floor.prepare", str(phones)], env=env, cwd=ROOT, check=True
    )
    return url


def floor_sql(url: str, sql: str) -> str:
    done = subprocess.run(
        ["psql", "-tAq", url, "-c", sql], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def start_floor(url: str, port: int) -> subprocess.Popen[bytes]:
    """The floor served the same way: granian, WSGI, 2 workers, granian's other defaults."""
    env = {**os.environ, "FLOOR_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    env["DJANGO_SETTINGS_MODULE"] = "bench.floor.settings"
    cmd = [sys.executable, "-m", "granian", "--interface", "wsgi", "--workers", "2"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "bench.floor.wsgi:application"]
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _wait_until_up(proc, port, "/floor/openapi.json")
    return proc


def counter_session(username: str) -> dict[str, str]:
    """Headers of a signed-in clerk's browser for the counter's htmx POSTs.

    The session is made in the database the server reads; the CSRF cookie and header carry the
    same secret, which is what Django's CSRF check compares.
    """
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
    from django.test import Client
    from django.utils.crypto import get_random_string

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    csrf = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
    return {
        "Cookie": f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={csrf}",
        "X-CSRFToken": csrf,
        "HX-Request": "true",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def stored_parcels() -> int:
    from django.db import connection

    from jianjian.parcels.models import Parcel

    count = Parcel.objects.count()
    connection.close()
    return count


@dataclasses.dataclass
class Row:
    label: str
    result: wrk.Result
    stored_per_s: float


def measure(label: str, count, seconds: int, app: int, **wrk_args) -> Row:  # type: ignore[no-untyped-def]
    """One wrk run; ``count()`` before and after gives the rows really stored per second, the
    CPU of the server ``app`` (a pid), PostgreSQL and wrk what one request cost the machine."""
    before = count()
    cpu_before = cpu.snapshot(app)
    result = wrk.run(seconds=seconds, **wrk_args)
    cpu_after = cpu.snapshot(app)
    stored = count() - before
    row = Row(label, result, stored / seconds)
    print(
        f"  {label}: {result.requests_per_s:,.0f} req/s, p50 {result.p50_ms:.1f} ms, "
        f"p99 {result.p99_ms:.1f} ms; {result.requests} requests, {result.non_2xx} not 2xx"
        f"{', socket errors ' + result.errors if result.errors else ''}; "
        f"{row.stored_per_s:,.0f} parcels stored/s; "
        f"{cpu.per_request(cpu_before, cpu_after, result.requests)}",
        flush=True,
    )
    return row


def side_by_side(floor: Row, ours: list[Row], floor_batch: Row, batch: Row) -> str:
    """The table of one run, each of jianjian's rows against the floor, and the targets."""
    lines = [
        f"{'endpoint':<58} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'req/s %':>8} {'p99 ×':>6}",
    ]

    def line(row: Row, base: Row | None) -> str:
        r = row.result
        rel = (
            f"{100 * r.requests_per_s / base.result.requests_per_s:>7.0f}% "
            f"{r.p99_ms / base.result.p99_ms:>6.2f}"
            if base
            else ""
        )
        return f"{row.label:<58} {r.requests_per_s:>8,.0f} {r.p50_ms:>8.1f} {r.p99_ms:>8.1f} {rel}"

    lines.append(line(floor, None))
    lines += [line(row, floor) for row in ours]
    lines.append(line(floor_batch, None) + f"  {floor_batch.stored_per_s:,.0f} parcels/s")
    lines.append(line(batch, floor_batch) + f"  {batch.stored_per_s:,.0f} parcels/s")
    api = ours[0].result
    share = api.requests_per_s / floor.result.requests_per_s
    p99 = api.p99_ms / floor.result.p99_ms
    batch_share = batch.stored_per_s / floor_batch.stored_per_s
    lines.append(
        f"targets: one API scan {100 * share:.0f}% of the floor's req/s (≥ 60%: "
        f"{'met' if share >= 0.6 else 'NOT met'}), p99 {p99:.2f}× the floor's (≤ 2×: "
        f"{'met' if p99 <= 2 else 'NOT met'}); batch {100 * batch_share:.0f}% of the floor's "
        f"parcels/s (≥ 50%: {'met' if batch_share >= 0.5 else 'NOT met'})"
    )
    return "\n".join(lines)


def bench_intake(args, community, points, token: str) -> None:  # type: ignore[no-untyped-def]
    """Floor and jianjian, one after the other in one run, each with the same wrk load."""
    from django.db import connections

    add_residents(community, PHONES)
    more = more_points(community, ["C", "D", "E", "F"])
    for point in points + more:  # intake is about throughput here, not the daily cap
        point.daily_capacity = 10_000_000
        point.save()
    everywhere = [p.pk for p in points + more]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    counter = counter_session("bench-clerk")
    connections.close_all()
    floor_url = floor_database(args.floor_db, PHONES)
    analyze = args.database == "postgres" and not args.no_analyze and not autovacuum()
    if analyze:
        print(
            "autovacuum is off on this server: the bench runs VACUUM ANALYZE before each run, as "
            "autovacuum would for a deployed database (--no-analyze: do not)"
        )

    def fresh_statistics() -> None:
        if analyze:
            # Vacuumed too: each counter scan rewrites its session row, and dead row versions
            # that autovacuum would clear pile up run after run.
            run_sql("VACUUM ANALYZE")
            floor_sql(floor_url, "VACUUM ANALYZE")

    def floor_count() -> int:
        return int(floor_sql(floor_url, "SELECT count(*) FROM floor_scans_parcel"))

    def stations_of(r: int) -> list[int]:
        """The batch's points of round ``r``: new ones each round, none of them a point the
        single scans use, as a station's 10,000 scans a round would otherwise bring its code
        sequence round onto codes still on the shelf (a point holding 10,000 parcels at once,
        which no real point does) and every later scan there would look for a free code."""
        fresh = more_points(community, [f"{chr(ord('G') + r)}{c}" for c in "ABCD"])
        for point in fresh:
            point.daily_capacity = 10_000_000
            point.save()
        connections.close_all()
        return [p.pk for p in fresh]

    ours_url = f"http://127.0.0.1:{args.port}"
    floor_http = f"http://127.0.0.1:{args.port + 1}"
    server = start_server(dict(os.environ), args.port)
    floor = start_floor(floor_url, args.port + 1)
    c, s = args.connections, args.seconds
    print(
        f"wrk: {c} connections for {s} s a run (batches: 4 connections, one per point); "
        f"load before: {os.getloadavg()[0]:.2f}"
    )
    try:
        single = dict(mode="api", points=everywhere, connections=c, threads=2)
        # Unmeasured first second for each server: every worker opens its database connection
        # and imports what its first request needs (numbers of their own: run digits 6 to 8).
        for digit, url, path, mode, hdrs in (
            (6, floor_http, "/floor/intake", "api", headers),
            (7, ours_url, "/api/v1/parcels/intake", "api", headers),
            (8, ours_url, "/counter/%s/scan/", "counter", counter),
        ):
            wrk.run(
                url, **{**single, "mode": mode}, path=path, run_digit=digit, seconds=1, headers=hdrs
            )
        rounds = [
            one_round(
                r,
                measure_row=measure,
                fresh=fresh_statistics,
                floor_count=floor_count,
                floor=(floor.pid, floor_http),
                ours=(server.pid, ours_url),
                headers=headers,
                counter=counter,
                single=single,
                stations=stations_of(r),
                s=s,
            )
            for r in range(args.rounds)
        ]
    finally:
        for proc in (server, floor):
            proc.terminate()
        for proc in (server, floor):
            proc.wait(timeout=20)
    print(f"load after: {os.getloadavg()[0]:.2f}")
    if len(rounds) > 1:
        for r, (f1, j1, j2, f2, j3) in enumerate(rounds, start=1):
            print(f"round {r}:\n{side_by_side(f1, [j1, j2], f2, j3)}")
        print(f"median of {len(rounds)} rounds (each figure on its own):")
    f1, j1, j2, f2, j3 = (median_row([r[i] for r in rounds]) for i in range(5))
    print(side_by_side(f1, [j1, j2], f2, j3))


def median_row(rows: list[Row]) -> Row:
    """Each figure of ``rows`` (one endpoint, several rounds) at its median."""
    if len(rows) == 1:
        return rows[0]
    results = [r.result for r in rows]
    result = wrk.Result(
        requests_per_s=statistics.median(x.requests_per_s for x in results),
        p50_ms=statistics.median(x.p50_ms for x in results),
        p99_ms=statistics.median(x.p99_ms for x in results),
        requests=sum(x.requests for x in results),
        non_2xx=sum(x.non_2xx for x in results),
        errors=", ".join(x.errors for x in results if x.errors),
    )
    return Row(rows[0].label, result, statistics.median(r.stored_per_s for r in rows))


def one_round(
    r: int,
    *,
    measure_row,
    fresh,
    floor_count,
    floor,
    ours,
    headers,
    counter,  # type: ignore[no-untyped-def]
    single,
    stations,
    s,
):
    """The floor's scan, jianjian's API and counter scans, the floor's batch and jianjian's:
    one after the other, so every round compares them under the same load on the machine."""
    floor_pid, floor_http = floor
    server_pid, ours_url = ours
    start = r * 1_000_000_000  # each round's numbers are new (wrk.py)
    batched = dict(mode="batch", points=stations, connections=4, threads=4, batch=50)
    plan = [
        (
            "floor: look up, insert a parcel and an event",
            floor_count,
            floor_pid,
            floor_http,
            "/floor/intake",
            1,
            headers,
            single,
        ),
        (
            "jianjian POST /api/v1/parcels/intake",
            stored_parcels,
            server_pid,
            ours_url,
            "/api/v1/parcels/intake",
            2,
            headers,
            single,
        ),
        (
            "jianjian counter scan (htmx POST)",
            stored_parcels,
            server_pid,
            ours_url,
            "/counter/%s/scan/",
            3,
            counter,
            {**single, "mode": "counter"},
        ),
        (
            "floor: batch of 50",
            floor_count,
            floor_pid,
            floor_http,
            "/floor/intake/batch",
            4,
            headers,
            batched,
        ),
        (
            "jianjian POST /api/v1/parcels/intake/batch (50)",
            stored_parcels,
            server_pid,
            ours_url,
            "/api/v1/parcels/intake/batch",
            5,
            headers,
            batched,
        ),
    ]
    rows = []
    for label, count, pid, url, path, digit, hdrs, load in plan:
        fresh()
        rows.append(
            measure_row(
                label,
                count,
                s,
                app=pid,
                url=url,
                path=path,
                run_digit=digit,
                headers=hdrs,
                start=start,
                **load,
            )
        )
    return tuple(rows)


def profile_intake(point, batch: int, requests: int = 100) -> str:  # type: ignore[no-untyped-def]
    """Where a request's server time goes, in process through the API (no HTTP server): the whole
    request, the lifecycle service inside it and the SQL inside that; then a cProfile listing."""
    from django.db import connection
    from django.test import Client

    from jianjian.couriers.models import ApiToken
    from jianjian.couriers.tokens import create_token
    from jianjian.parcels import services

    user = ApiToken.objects.get(name="bench").user
    _t, raw = create_token(f"profile-{batch}", role="clerk", user=user)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_HOST="127.0.0.1")
    numbers = itertools.count(4_000_000_000_000 + batch * 10_000_000)
    spent = {"service": 0.0, "sql": 0.0, "queries": 0}

    def post() -> None:
        scans = [
            {"tracking_number": f"SF{next(numbers)}", "phone": phone(n), "override_reason": "bench"}
            for n in range(batch)
        ]
        if batch == 1:
            path, body = "/api/v1/parcels/intake", {"point_id": point.pk, **scans[0]}
        else:
            path, body = "/api/v1/parcels/intake/batch", {"point_id": point.pk, "scans": scans}
        response = client.post(path, body, content_type="application/json")
        assert response.status_code == 200, response.content

    def timed(fn):  # type: ignore[no-untyped-def]
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent["service"] += time.perf_counter() - t

        return wrapper

    def counted(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent["sql"] += time.perf_counter() - t
            spent["queries"] += 1

    name = "intake" if batch == 1 else "intake_many"
    original = getattr(services, name)
    for _i in range(20):
        post()  # warm up: imports, the token's first use, today's row, the per-process caches
    setattr(services, name, timed(original))
    try:
        with connection.execute_wrapper(counted):
            t0, c0 = time.perf_counter(), time.process_time()
            for _i in range(requests):
                post()
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    finally:
        setattr(services, name, original)
    per = 1000 / requests
    service_ms, sql_ms = spent["service"] * per, spent["sql"] * per
    out = io.StringIO()
    out.write(
        f"in process, {'one scan' if batch == 1 else f'a batch of {batch}'} a request "
        f"({requests} requests): {wall * per:.1f} ms a request ({cpu * per:.1f} ms of it this "
        f"process's CPU, the rest waiting on PostgreSQL) = {batch * requests / wall:.0f} "
        f"scans/s on one core; of which the service {service_ms:.1f} ms (SQL {sql_ms:.1f} ms in "
        f"{spent['queries'] / requests:.1f} queries a request, counting those outside the "
        f"service), the rest (middleware, auth, django-ninja in and out) "
        f"{wall * per - service_ms:.1f} ms\n"
    )
    prof = cProfile.Profile(time.process_time)  # CPU only: waits on the database left out
    prof.enable()
    for _i in range(max(requests // 2, 1)):
        post()
    prof.disable()
    stats = pstats.Stats(prof, stream=out)
    out.write(f"where this process's CPU goes (cProfile, own time by package):\n{areas(stats)}")
    stats.sort_stats("cumulative").print_stats(30)
    return out.getvalue()


def areas(stats: pstats.Stats, top: int = 14) -> str:
    """Own (not cumulative) time summed by package: psycopg, Django's ORM, django-ninja, …"""
    by: dict[str, float] = {}
    for (filename, _line, _name), (_cc, _nc, own, _cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if "site-packages/" in filename:
            parts = filename.split("site-packages/")[1].split("/")
            key = "/".join(parts[:3]) if parts[0] == "django" else parts[0]
        elif "/jianjian/" in filename:
            key = "jianjian/" + filename.split("/jianjian/")[1]
        elif filename.startswith(("~", "<")):
            key = "built-ins"
        else:
            key = "standard library"
        by[key] = by.get(key, 0.0) + own
    total = sum(by.values()) or 1.0
    rows = sorted(by.items(), key=lambda kv: -kv[1])[:top]
    return "".join(f"  {100 * v / total:5.1f} %  {k}\n" for k, v in rows)


def clone_history(total: int) -> int:
    """Grow the stored history to ``total`` parcels in SQL: copies of the picked-up parcels
    (``-<n>`` appended to their numbers), each with the events of one picked-up parcel.

    Python's bulk inserts take over an hour for 10⁶ parcels on a loaded 2-core machine; SQL does
    it in minutes. The copies are closed parcels: the shelves (what a lookup finds) are the
    original on-hand ones, the copies are what a lookup's indexes must skip.
    """
    from django.db import connection

    from jianjian.parcels.models import CustodyEvent, Parcel, ParcelState

    have = Parcel.objects.count()
    closed = Parcel.objects.filter(state=ParcelState.PICKED_UP)
    template = closed.order_by("pk").values_list("pk", flat=True).first()
    per = closed.count()
    if have >= total or template is None:
        return have
    copies = -(-(total - have) // per)
    pcols = [f.column for f in Parcel._meta.concrete_fields if not f.primary_key]
    picked = ", ".join(
        "p.tracking_number || '-' || g" if c == "tracking_number" else f"p.{c}" for c in pcols
    )
    ecols = [f.column for f in CustodyEvent._meta.concrete_fields if not f.primary_key]
    events = ", ".join("p.id" if c == "parcel_id" else f"e.{c}" for c in ecols)
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM parcels_parcel")
        before = cursor.fetchone()[0]
        cursor.execute(
            f"INSERT INTO {Parcel._meta.db_table} ({', '.join(pcols)}) "
            f"SELECT {picked} FROM {Parcel._meta.db_table} p "
            "CROSS JOIN generate_series(1, %s) g WHERE p.state = %s LIMIT %s",
            [copies, ParcelState.PICKED_UP, total - have],
        )
        cursor.execute(
            f"INSERT INTO {CustodyEvent._meta.db_table} ({', '.join(ecols)}) "
            f"SELECT {events} FROM {Parcel._meta.db_table} p "
            f"JOIN {CustodyEvent._meta.db_table} e ON e.parcel_id = %s WHERE p.id > %s",
            [template, before],
        )
    return Parcel.objects.count()


def bench_pickup(total: int, lookups: int) -> None:
    """The clerk's pickup lookup (by pickup code, by phone tail) with ``total`` parcels kept."""
    import random as _random

    from bench import lifecycle

    rng = _random.Random(1)
    t = time.perf_counter()
    seed = min(total, 10_000)
    _community, points, _residents = lifecycle.load(seed, 300, 8, rng)
    stored = clone_history(total)
    run_sql("ANALYZE")
    print(f"pickup lookup: {stored:,} parcels kept (loaded in {time.perf_counter() - t:.0f} s)")
    for kind in ("code", "phone_tail"):
        lat = lifecycle.bench_lookup(points, kind, lookups, rng)
        print(
            f"  by {kind:<10}: p50 {percentile(lat, 0.5):.2f} ms, "
            f"p99 {percentile(lat, 0.99):.2f} ms ({len(lat)} lookups, in process)"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["postgres"], default="postgres")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--port", type=int, default=8765, help="jianjian's port; the floor's is the next one"
    )
    parser.add_argument(
        "--floor-db",
        default=os.environ.get("JIANJIAN_BENCH_FLOOR_DB", "jj_bench_floor"),
        help="the floor's PostgreSQL database (dropped and made anew)",
    )
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure every endpoint this many times in turn; the table gives the medians",
    )
    parser.add_argument(
        "--parcels", type=int, default=1_000_000, help="parcels kept for --only pickup"
    )
    parser.add_argument(
        "--only",
        choices=["manifest", "intake", "pickup"],
        help="run only the manifest import, the HTTP intake load or the pickup lookup",
    )
    parser.add_argument(
        "--no-analyze",
        action="store_true",
        help="on a server without autovacuum, leave the planner without statistics",
    )
    args = parser.parse_args()
    configure(args.database, "api")

    if args.only == "pickup":
        print(f"machine: {machine()}; database: {args.database}")
        bench_pickup(args.parcels, 2000)
        return
    community, points, token = setup_community()
    print(f"machine: {machine()}; database: {args.database}")
    if args.only != "intake":
        m = bench_manifest(community, args.rows)
        print(
            f"manifest: {m['rows']} rows read in {m['read_s']:.2f} s; validated, imported and "
            f"allocated in {m['validate_import_allocate_s']:.2f} s; total {m['total_s']:.2f} s "
            f"(planned {m['planned']}, overflow {m['overflow']}); "
            f"validation alone {m['validate_s']:.2f} s; "
            f"re-allocation alone {m['reallocate_again_s']:.2f} s; "
            f"re-sending it {m['resend_s']:.2f} s"
        )
    if args.only == "manifest":
        return
    bench_intake(args, community, points, token)
    if args.profile:
        run_sql("ANALYZE")
        print(profile_intake(points[0], 1, requests=300))
        print(profile_intake(points[1], 50, requests=40))


if __name__ == "__main__":
    main()
