"""A district on one PostgreSQL: do a community's hot paths cost the same among 200 communities as
when it is alone?

    python bench/district.py                                   # 200 communities, 10^6 parcels
    python bench/district.py --communities 1 --parcels 5000    # one community of the same size

Loads ``--communities`` communities of 4 points each and ``--parcels`` parcels of history spread
evenly over them (COPY: most picked up over the last 60 days with their two custody events, the
rest on the shelves), then times, for the first community: the counter's pickup lookup by code,
its 30-day dashboard (``reports.figures.compute``), its reminder sweep (20 parcels due) and its
committee digest text; and the worker's idle tick over every community (nothing due). Prints a
row of figures (milliseconds: median and p99).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
import _setup  # noqa: E402

POINTS = ("A", "B", "C", "D")
ON_SHELF = 0.025  # share of a community's parcels still waiting at a point


def make_communities(count: int) -> list[tuple[int, list[int]]]:
    from jianjian.communities.models import Community
    from jianjian.points.models import CollectionPoint, PointKind, Slot, uniform_hours

    communities = Community.objects.bulk_create(
        Community(name=f"社区{i:03d}", slug=f"c{i:03d}") for i in range(count)
    )
    points = CollectionPoint.objects.bulk_create(
        CollectionPoint(
            community=c, code=code, name=f"代收点{code}", kind=PointKind.COUNTER,
            daily_capacity=500, hours=uniform_hours(dt.time(0), dt.time(23, 59)),
        )
        for c in communities
        for code in POINTS
    )  # fmt: skip
    Slot.objects.bulk_create(
        Slot(community_id=p.community_id, point=p, shelf=s, tier=t)
        for p in points
        for s in (1, 2)
        for t in (1, 2, 3)
    )
    by_community: dict[int, list[int]] = {}
    for p in points:
        by_community.setdefault(p.community_id, []).append(p.pk)
    return [(c.pk, by_community[c.pk]) for c in communities]


def _rows(communities: list[tuple[int, list[int]]], total: int, carrier: int,
          now: dt.datetime) -> Iterator[tuple[list[object], list[list[object]]]]:  # fmt: skip
    """(parcel row, its event rows) in COPY column order."""
    rnd = random.Random(7)
    per = total // len(communities)
    pk = 0
    for community, points in communities:
        shelf_count = int(per * ON_SHELF)
        seqs = dict.fromkeys(points, 0)
        for i in range(per):
            pk += 1
            point = points[i % len(points)]
            on_shelf = i < shelf_count
            intake = now - dt.timedelta(
                hours=rnd.uniform(1, 20) if on_shelf else rnd.uniform(24, 1440)
            )
            phone = f"+86138{rnd.randrange(10**8):08d}"
            code = ""
            closed = None
            if on_shelf:
                seqs[point] += 1
                code = f"{POINTS[points.index(point)]}1-1-{seqs[point]:03d}"
            else:
                closed = intake + dt.timedelta(hours=rnd.uniform(1, 48))
            state = "at_point" if on_shelf else "picked_up"
            parcel = [
                pk, f"SF{community:04d}{i:09d}", state, "", code, "" if on_shelf else "resident",
                "", phone, phone[-4:], None, intake, closed, 1 if on_shelf else 2, intake,
                closed or intake, carrier, community, point if on_shelf else None,
                intake + dt.timedelta(hours=24) if on_shelf else None,
            ]  # fmt: skip
            events = [[pk, 1, "intake", "at_point", intake, "bench", "scan", code, "", "{}",
                       community, point]]  # fmt: skip
            if closed is not None:
                events.append([pk, 2, "hand_over", "picked_up", closed, "bench", "code", "",
                               "resident", "{}", community, point])  # fmt: skip
            yield parcel, events


PARCEL_COLUMNS = (
    "id, tracking_number, state, size, pickup_code, collected_by, recipient_name, "
    "recipient_phone, recipient_last4, announced_at, intake_at, closed_at, event_count, "
    "created_at, updated_at, carrier_id, community_id, point_id, next_reminder_at"
)
EVENT_COLUMNS = (
    "parcel_id, seq, kind, to_state, at, actor_label, method, pickup_code, holder, data, "
    "community_id, point_id"
)


def load(communities: list[tuple[int, list[int]]], total: int) -> float:
    from django.db import connection
    from django.utils import timezone

    from jianjian.couriers.models import Carrier

    carrier = Carrier.objects.get(code="sf").pk
    started = time.perf_counter()
    raw = connection.connection  # psycopg 3: COPY straight from Python rows
    now = timezone.now()
    with raw.cursor() as cur:
        # Two passes over the same seeded rows: parcels first (the events point at them).
        with cur.copy(f"COPY parcels_parcel ({PARCEL_COLUMNS}) FROM STDIN") as copy:
            for parcel, _events in _rows(communities, total, carrier, now):
                copy.write_row(parcel)
        with cur.copy(f"COPY parcels_custodyevent ({EVENT_COLUMNS}) FROM STDIN") as copy:
            for _parcel, events in _rows(communities, total, carrier, now):
                for row in events:
                    copy.write_row(row)
        cur.execute("SELECT setval('parcels_parcel_id_seq', (SELECT max(id) FROM parcels_parcel))")
        cur.execute(
            "UPDATE points_collectionpoint p SET on_hand = s.n, code_seq = s.n FROM"
            " (SELECT point_id, count(*) n FROM parcels_parcel WHERE state = 'at_point'"
            " GROUP BY point_id) s WHERE s.point_id = p.id"
        )
        cur.execute("ANALYZE")
    raw.commit()
    return time.perf_counter() - started


def timed(fn: Callable[[], object], reps: int) -> tuple[float, float]:
    samples = []
    for _ in range(reps):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), _setup.percentile(samples, 0.99)


def measure(community_id: int) -> dict[str, tuple[float, float]]:
    from django.utils import timezone

    from jianjian.communities.models import Community
    from jianjian.notify.models import Notification
    from jianjian.notify.sweeps import digest_text, run_sweeps, sweep_parcels
    from jianjian.parcels.models import Parcel
    from jianjian.parcels.queries import lookup_for_pickup
    from jianjian.points.models import CollectionPoint
    from jianjian.reports.figures import compute

    community = Community.objects.get(pk=community_id)
    points = list(CollectionPoint.objects.filter(community=community))
    now = timezone.now()
    codes = list(
        Parcel.objects.filter(community=community, state="at_point").values_list(
            "point_id", "pickup_code"
        )
    )
    by_id = {p.pk: p for p in points}
    rnd = random.Random(1)

    def lookup() -> None:
        point_id, code = rnd.choice(codes)
        lookup_for_pickup(by_id[point_id], code, now)

    today = timezone.localdate()
    out = {
        "lookup": timed(lookup, 300),
        "dashboard": timed(lambda: compute(community, today - dt.timedelta(days=29), today), 10),
        "digest": timed(lambda: digest_text(community, now), 20),
    }
    due = list(
        Parcel.objects.filter(community=community, state="at_point").values_list("pk", flat=True)
    )[:20]

    def sweep() -> None:
        Notification.objects.filter(community=community).delete()
        Parcel.objects.filter(pk__in=due).update(
            intake_at=now - dt.timedelta(hours=25), next_reminder_at=now - dt.timedelta(minutes=1)
        )
        started = time.perf_counter()
        assert sweep_parcels(now, community_id=community.pk) == len(due)
        sweep.ms.append((time.perf_counter() - started) * 1000)  # type: ignore[attr-defined]

    sweep.ms = []  # type: ignore[attr-defined]
    for _ in range(5):
        sweep()
    ms = sorted(sweep.ms)  # type: ignore[attr-defined]
    out["sweep (20 due)"] = (statistics.median(ms), ms[-1])
    Parcel.objects.filter(pk__in=due).update(next_reminder_at=now + dt.timedelta(hours=20))
    out["idle tick, all communities"] = timed(lambda: run_sweeps(now), 10)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--communities", type=int, default=200)
    parser.add_argument("--parcels", type=int, default=1_000_000)
    args = parser.parse_args()
    _setup.configure("postgres", "district")
    print(f"machine: {_setup.machine()}; PostgreSQL")
    communities = make_communities(args.communities)
    seconds = load(communities, args.parcels)
    print(f"loaded {args.communities} communities × 4 points, {args.parcels:,} parcels "
          f"and their events in {seconds:.0f} s")  # fmt: skip
    figures = measure(communities[0][0])
    for name, (median, p99) in figures.items():
        print(f"  {name:28} median {median:8.2f} ms   p99 {p99:8.2f} ms")


if __name__ == "__main__":
    main()
