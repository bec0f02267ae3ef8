"""API benchmarks (issue 5): intake throughput through `jianjian serve`, and a 100k manifest.

    .venv/bin/python bench/api.py                 # PostgreSQL (the target's database)
    .venv/bin/python bench/api.py --rows 20000 --seconds 5
    .venv/bin/python bench/api.py --profile       # also: where a scan's and a batch's time goes
    .venv/bin/python bench/api.py --only intake   # only the HTTP intake load (or: --only manifest)

Prints its figures; the latest results and the machine go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import itertools
import json
import os
import pstats
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._setup import configure, machine

PORT = 8765


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


def start_server(env: dict[str, str]) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "jianjian.cli",
        "serve",
        "--no-worker",
        "--no-backup",
        "--port",
        str(PORT),
        "--workers",
        "2",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=1)
            conn.request("GET", "/api/v1/openapi.json")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def load(  # type: ignore[no-untyped-def]
    token: str, point_ids: list[int], seconds: float, clients: int, batch: int, run: int
):
    """``clients`` keep-alive connections post scans for ``seconds``, client i at point
    ``point_ids[i % len(point_ids)]``; returns scans/s. ``run`` keeps each run's numbers new."""
    numbers = itertools.count(3_000_000_000_000 + run * 10_000_000)
    lock = threading.Lock()
    done = [0]
    errors = [0]
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def next_number() -> str:
        with lock:
            return f"SF{next(numbers)}"

    def client(point_id: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        while time.perf_counter() < stop_at:
            scans = [
                {"tracking_number": next_number(), "phone": phone(n), "override_reason": "bench"}
                for n in range(batch)
            ]
            if batch == 1:
                path, body = "/api/v1/parcels/intake", {"point_id": point_id, **scans[0]}
            else:
                path, body = "/api/v1/parcels/intake/batch", {"point_id": point_id, "scans": scans}
            t = time.perf_counter()
            conn.request("POST", path, json.dumps(body), headers)
            response = conn.getresponse()
            payload = json.loads(response.read())
            elapsed = time.perf_counter() - t
            ok = (1 if response.status == 200 else 0) if batch == 1 else payload.get("taken_in", 0)
            with lock:
                done[0] += ok
                errors[0] += batch - ok
                latencies.append(elapsed)

    threads = [
        threading.Thread(target=client, args=(point_ids[i % len(point_ids)],))
        for i in range(clients)
    ]
    start = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - start
    latencies.sort()
    return {
        "clients": clients,
        "batch": batch,
        "scans": done[0],
        "errors": errors[0],
        "scans_per_s": done[0] / wall,
        "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else 0,
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)] if latencies else 0,
    }


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
    post()  # warm up: imports, the token's first use, today's row
    setattr(services, name, timed(original))
    try:
        with connection.execute_wrapper(counted):
            t0 = time.perf_counter()
            for _i in range(requests):
                post()
            wall = time.perf_counter() - t0
    finally:
        setattr(services, name, original)
    per = 1000 / requests
    service_ms, sql_ms = spent["service"] * per, spent["sql"] * per
    out = io.StringIO()
    out.write(
        f"in process, {'one scan' if batch == 1 else f'a batch of {batch}'} a request "
        f"({requests} requests): {wall * per:.1f} ms a request = {batch * requests / wall:.0f} "
        f"scans/s on one core; of which the service {service_ms:.1f} ms (SQL {sql_ms:.1f} ms in "
        f"{spent['queries'] / requests:.1f} queries a request, counting those outside the "
        f"service), the rest (middleware, auth, django-ninja in and out) "
        f"{wall * per - service_ms:.1f} ms\n"
    )
    prof = cProfile.Profile()
    prof.enable()
    for _i in range(max(requests // 2, 1)):
        post()
    prof.disable()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(30)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--only",
        choices=["manifest", "intake"],
        help="run only the manifest import or only the HTTP intake load",
    )
    parser.add_argument(
        "--no-analyze",
        action="store_true",
        help="on a server without autovacuum, leave the planner without statistics",
    )
    args = parser.parse_args()
    configure(args.database, "api")
    from django.db import connections

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
    more = more_points(community, ["C", "D", "E", "F"])
    for point in points + more:  # intake is about throughput here, not the daily cap
        point.daily_capacity = 10_000_000
        point.save()
    connections.close_all()
    server = start_server(dict(os.environ))
    runs = (
        (8, 1, [points[0]], "one scan a request, 8 clients"),
        (4, 50, [points[1]], "batch of 50, 4 clients"),
        # A district's stations: each client the scan stream of its own point. (At one point the
        # batches queue for the point's lock, which keeps its code sequence and counts exact.)
        (4, 50, more, "batch of 50, 4 clients at 4 points"),
    )
    analyze = args.database == "postgres" and not args.no_analyze and not autovacuum()
    if analyze:
        print(
            "autovacuum is off on this server: the bench runs ANALYZE before each run, as "
            "autovacuum would keep the statistics of a deployed database (--no-analyze: do not)"
        )
    try:
        for run, (clients, batch, at, label) in enumerate(runs):
            if analyze:
                run_sql("ANALYZE")
            r = load(token, [p.pk for p in at], args.seconds, clients, batch, run)
            print(
                f"intake ({label}): {r['scans_per_s']:.0f} scans/s; {r['scans']} ok, "
                f"{r['errors']} failed; request p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms"
            )
    finally:
        server.terminate()
        server.wait(timeout=20)
    if args.profile:
        if analyze:
            run_sql("ANALYZE")
        print(profile_intake(points[0], 1, requests=300))
        print(profile_intake(points[1], 50, requests=40))


if __name__ == "__main__":
    main()
