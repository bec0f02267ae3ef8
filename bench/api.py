"""API benchmarks (issue 5): intake throughput through `jianjian serve`, and a 100k manifest.

    .venv/bin/python bench/api.py                 # PostgreSQL (the target's database)
    .venv/bin/python bench/api.py --rows 20000 --seconds 5
    .venv/bin/python bench/api.py --profile       # also: where a single scan's time goes
    .venv/bin/python bench/api.py --only manifest # only the manifest import (--only intake: only
                                                  # the HTTP intake load)

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


def load(token: str, point_id: int, seconds: float, clients: int, batch: int) -> dict[str, float]:
    """``clients`` keep-alive connections post scans for ``seconds``; returns scans/s."""
    numbers = itertools.count(3_000_000_000_000 + batch * 10_000_000)
    lock = threading.Lock()
    done = [0]
    errors = [0]
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def next_number() -> str:
        with lock:
            return f"SF{next(numbers)}"

    def client() -> None:
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

    threads = [threading.Thread(target=client) for _ in range(clients)]
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


def profile_intake(point, n: int = 300) -> str:  # type: ignore[no-untyped-def]
    """Where one scan's server time goes (in process, through the API view)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from jianjian.couriers.models import ApiToken
    from jianjian.couriers.tokens import create_token

    user = ApiToken.objects.get(name="bench").user
    _t, raw = create_token("profile", role="clerk", user=user)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_HOST="127.0.0.1")

    def scan(i: int) -> None:
        body = {
            "point_id": point.pk,
            "tracking_number": f"SF{4_000_000_000_000 + i}",
            "phone": phone(i),
            "override_reason": "bench",
        }
        client.post("/api/v1/parcels/intake", body, content_type="application/json")

    with CaptureQueriesContext(connection) as queries:
        scan(-1)
    prof = cProfile.Profile()
    prof.enable()
    for i in range(n):
        scan(i)
    prof.disable()
    out = io.StringIO()
    out.write(f"queries for one scan: {len(queries.captured_queries)}\n")
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
    for point in points:  # intake is about throughput here, not the daily cap
        point.daily_capacity = 10_000_000
        point.save()
    connections.close_all()
    server = start_server(dict(os.environ))
    try:
        for clients, batch, point in ((8, 1, points[0]), (4, 50, points[1])):
            r = load(token, point.pk, args.seconds, clients, batch)
            print(
                f"intake ({'batch of ' + str(batch) if batch > 1 else 'one scan a request'}, "
                f"{clients} clients): {r['scans_per_s']:.0f} scans/s; {r['scans']} ok, "
                f"{r['errors']} failed; request p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms"
            )
    finally:
        server.terminate()
        server.wait(timeout=20)
    if args.profile:
        print(profile_intake(points[0]))


if __name__ == "__main__":
    main()
