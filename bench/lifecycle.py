"""Intake throughput and pickup-lookup latency through the lifecycle services, with 10⁵ or 10⁶
parcels already stored.

    python bench/lifecycle.py --parcels 100000 --database sqlite
    python bench/lifecycle.py --parcels 1000000 --database postgres

The stored parcels are bulk-loaded as the history of a busy district (most picked up, a few
hundred on each point's shelves, each with its custody events), then the benchmark times
`services.intake` one scan at a time (as a counter does) and `queries.lookup_for_pickup` by
pickup code and by phone tail (what the clerk's pickup screen runs). Prints its figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup


def load(total: int, on_hand_per_point: int, points_n: int, rng: random.Random):  # type: ignore[no-untyped-def]
    from django.db import transaction
    from django.utils import timezone

    from jianjian.communities.models import Building, Community, Flat, Resident
    from jianjian.couriers.models import Carrier
    from jianjian.parcels.models import CustodyEvent, EventKind, Method, Parcel, ParcelState
    from jianjian.points.models import CollectionPoint, PointKind, Slot

    community = Community.objects.create(name="基准社区", slug="bench")
    building = Building.objects.create(community=community, number="1")
    flats = Flat.objects.bulk_create(
        Flat(
            community=community,
            building=building,
            entrance="1",
            number=str(100 + i),
            code=f"1-1-{100 + i}",
        )
        for i in range(500)
    )
    residents = [
        Resident(
            community=community,
            flat=flats[i % 500],
            name=f"住户{i}",
            phone=f"+86138{i:08d}",
            phone_last4=f"{i:08d}"[-4:],
        )
        for i in range(2000)
    ]
    Resident.objects.bulk_create(residents, batch_size=1000)
    residents = list(Resident.objects.filter(community=community))
    points = []
    for n in range(points_n):
        point = CollectionPoint.objects.create(
            community=community,
            code=chr(ord("A") + n),
            name=f"代收点{n}",
            kind=PointKind.COUNTER,
            daily_capacity=1_000_000,
        )
        Slot.objects.bulk_create(
            Slot(community=community, point=point, shelf=s, tier=t)
            for s in range(1, 5)
            for t in range(1, 4)
        )
        points.append((point, list(point.slots.all())))
    carrier = Carrier.objects.get(code="sf")
    now = timezone.now()
    batch = 5000
    made = 0
    t0 = time.perf_counter()
    while made < total:
        n = min(batch, total - made)
        parcels = []
        for i in range(n):
            k = made + i
            point, slots = points[k % points_n]
            resident = residents[k % len(residents)]
            live = k >= total - on_hand_per_point * points_n
            intake_at = now - dt.timedelta(minutes=(total - k))
            slot = slots[k % len(slots)]
            parcels.append(
                Parcel(
                    community=community,
                    tracking_number=f"SF{5000000000000 + k}",
                    carrier=carrier,
                    state=ParcelState.AT_POINT if live else ParcelState.PICKED_UP,
                    point=point,
                    slot=slot if live else None,
                    pickup_code=f"{point.code}{slot.shelf}-{slot.tier}-{k % 9000 + 1:03d}"
                    if live
                    else "",
                    collected_by="" if live else resident.name,
                    recipient=resident,
                    recipient_name=resident.name,
                    recipient_phone=resident.phone,
                    recipient_last4=resident.phone_last4,
                    recipient_flat_id=resident.flat_id,
                    intake_at=intake_at,
                    closed_at=None if live else intake_at + dt.timedelta(hours=5),
                    event_count=1 if live else 2,
                )
            )
        with transaction.atomic():
            Parcel.objects.bulk_create(parcels, batch_size=1000)
            events = []
            for p in parcels:
                events.append(
                    CustodyEvent(
                        community=community,
                        parcel=p,
                        seq=1,
                        kind=EventKind.INTAKE,
                        to_state=ParcelState.AT_POINT,
                        at=p.intake_at,
                        method=Method.SCAN,
                        point=p.point,
                        slot=p.slot,
                        pickup_code=p.pickup_code,
                    )
                )
                if p.state == ParcelState.PICKED_UP:
                    events.append(
                        CustodyEvent(
                            community=community,
                            parcel=p,
                            seq=2,
                            kind=EventKind.HAND_OVER,
                            to_state=ParcelState.PICKED_UP,
                            at=p.closed_at,
                            method=Method.CODE,
                            point=p.point,
                            holder=p.collected_by,
                        )
                    )
            CustodyEvent.objects.bulk_create(events, batch_size=2000)
        made += n
        if made % 100_000 == 0 or made == total:
            print(f"  loaded {made:>9,} parcels  ({time.perf_counter() - t0:6.1f} s)", flush=True)
    for point, _slots in points:
        CollectionPoint.objects.filter(pk=point.pk).update(
            on_hand=Parcel.objects.filter(point=point, state=ParcelState.AT_POINT).count(),
            code_seq=9000,
        )
    return community, [p for p, _ in points], residents


def bench_intake(points, residents, count: int) -> tuple[float, list[float]]:  # type: ignore[no-untyped-def]
    from jianjian.parcels import services

    actor = services.Actor.system("bench")
    latencies = []
    start = time.perf_counter()
    for i in range(count):
        resident = residents[i % len(residents)]
        t = time.perf_counter()
        services.intake(
            points[i % len(points)], f"SF{7000000000000 + i}", actor=actor, phone=resident.phone
        )
        latencies.append((time.perf_counter() - t) * 1000)
    return count / (time.perf_counter() - start), sorted(latencies)


def bench_lookup(points, kind: str, count: int, rng: random.Random) -> list[float]:  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from jianjian.parcels.models import Parcel, ParcelState
    from jianjian.parcels.queries import lookup_for_pickup

    samples = []
    for point in points:
        for code, last4 in Parcel.objects.filter(
            point=point, state=ParcelState.AT_POINT
        ).values_list("pickup_code", "recipient_last4")[:200]:
            samples.append((point, code if kind == "code" else last4))
    rng.shuffle(samples)
    latencies = []
    now = timezone.now()
    for i in range(count):
        point, key = samples[i % len(samples)]
        t = time.perf_counter()
        result = lookup_for_pickup(point, key, now)
        assert result.groups  # found something: we time real answers, not misses
        latencies.append((time.perf_counter() - t) * 1000)
    return sorted(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=100_000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--points", type=int, default=8)
    parser.add_argument("--intakes", type=int, default=2000)
    parser.add_argument("--lookups", type=int, default=2000)
    args = parser.parse_args()
    _setup.configure(args.database, "lifecycle")
    rng = random.Random(1)
    print(f"machine: {_setup.machine()}")
    print(f"database: {args.database}; stored parcels: {args.parcels:,}; points: {args.points}")
    community, points, residents = load(args.parcels, 300, args.points, rng)

    from jianjian.parcels.fold import check

    rate, lat = bench_intake(points, residents, args.intakes)
    print(
        f"intake (services.intake, one scan at a time): {rate:,.0f} /s; "
        f"p50 {_setup.percentile(lat, 0.5):.2f} ms, p99 {_setup.percentile(lat, 0.99):.2f} ms"
    )
    for kind in ("code", "phone_tail"):
        lat = bench_lookup(points, kind, args.lookups, rng)
        print(
            f"pickup lookup by {kind:<10}: p50 {_setup.percentile(lat, 0.5):.2f} ms, "
            f"p99 {_setup.percentile(lat, 0.99):.2f} ms  ({len(lat)} lookups)"
        )
    t = time.perf_counter()
    report = check(community.pk)
    print(
        f"jianjian check: {report.parcels:,} parcels, {report.events:,} events, "
        f"{len(report.problems)} differences in {time.perf_counter() - t:.1f} s"
    )


if __name__ == "__main__":
    main()
