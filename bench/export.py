"""Streamed export of custody events: time and peak memory for 10⁶ events.

    python bench/export.py --events 1000000 --database sqlite
    python bench/export.py --events 1000000 --database postgres --xlsx

Bulk-loads a community whose parcels have three custody events each (announce, intake, hand
over), then runs the same generators the export views stream — CSV always, XLSX with
``--xlsx`` — counting the bytes they produce. Peak Python memory during the export is measured
with tracemalloc (which also slows the run down; the time without it is printed too), and the
process's peak RSS with ``resource``. Bounded memory means the peak stays flat as --events grows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup

KINDS = ("announce", "intake", "hand_over")


def load(events: int):  # type: ignore[no-untyped-def]
    from django.db import transaction

    from jianjian.communities.models import Community
    from jianjian.couriers.models import Carrier
    from jianjian.parcels.models import CustodyEvent, Method, Parcel, ParcelState
    from jianjian.points.models import CollectionPoint, PointKind

    community = Community.objects.create(name="导出基准", slug="export-bench")
    point = CollectionPoint.objects.create(
        community=community, code="A", name="我爱我家", kind=PointKind.COUNTER
    )
    carrier = Carrier.objects.get(code="sf")
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    per = len(KINDS)
    parcels_n = events // per
    batch = 5000
    for first in range(0, parcels_n, batch):
        with transaction.atomic():
            parcels = Parcel.objects.bulk_create(
                Parcel(
                    community=community,
                    tracking_number=f"SF{1_000_000_000_000 + i}",
                    carrier=carrier,
                    state=ParcelState.PICKED_UP,
                    point=point,
                    recipient_name="=张三" if i % 100 == 0 else "张三",
                    recipient_phone="+8613812345678",
                    intake_at=start + dt.timedelta(seconds=30 * i),
                    closed_at=start + dt.timedelta(seconds=30 * i + 7200),
                    collected_by="张三",
                    event_count=per,
                )
                for i in range(first, min(first + batch, parcels_n))
            )
            CustodyEvent.objects.bulk_create(
                CustodyEvent(
                    community=community,
                    parcel=p,
                    seq=seq + 1,
                    kind=kind,
                    to_state={"announce": "announced", "intake": "at_point"}.get(kind, "picked_up"),
                    at=p.intake_at + dt.timedelta(hours=seq),
                    actor_label="clerk",
                    method=Method.SCAN,
                    point=point,
                    holder="张三" if kind == "hand_over" else "",
                    data={"note": "bench"} if kind == "intake" else {},
                )
                for p in parcels
                for seq, kind in enumerate(KINDS)
            )
    end = start + dt.timedelta(seconds=30 * parcels_n + 86400)
    return community, start.date(), end.date()


def run(fmt: str, community, start, end, traced: bool) -> tuple[float, int, int, int]:  # type: ignore[no-untyped-def]
    from jianjian.reports import exports

    if traced:
        tracemalloc.start()
    began = time.perf_counter()
    rows = exports.rows("events", community, start, end)
    size = 0
    count = 0

    def counted():  # type: ignore[no-untyped-def]
        nonlocal count
        for row in rows:
            count += 1
            yield row

    if fmt == "csv":
        for chunk in exports.csv_stream(counted()):
            size += len(chunk.encode())
    else:
        with exports.xlsx_file(counted(), "events") as out:
            while block := out.read(1 << 20):
                size += len(block)
    elapsed = time.perf_counter() - began
    peak = 0
    if traced:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return elapsed, peak, size, count - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--xlsx", action="store_true", help="also time the XLSX export")
    args = parser.parse_args()
    _setup.configure(args.database, "export")
    began = time.perf_counter()
    community, start, end = load(args.events)
    print(f"machine: {_setup.machine()}; database: {args.database}")
    print(f"loaded {args.events:,} events in {time.perf_counter() - began:.0f} s")
    for fmt in ["csv", "xlsx"] if args.xlsx else ["csv"]:
        plain, _p, size, rows = run(fmt, community, start, end, traced=False)
        traced, peak, _s, _r = run(fmt, community, start, end, traced=True)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{fmt}: {rows:,} rows, {size / 1e6:.0f} MB in {plain:.1f} s "
            f"({rows / plain:,.0f} rows/s); peak Python memory while exporting "
            f"{peak / 1e6:.1f} MB (tracemalloc run {traced:.1f} s); process peak RSS {rss:.0f} MB"
        )


if __name__ == "__main__":
    main()
