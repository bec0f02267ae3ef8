"""Notification delivery rate to a local HTTP peer, and the reminder sweep with many parcels.

    python bench/notify.py --parcels 1000000 --database sqlite
    python bench/notify.py --parcels 1000000 --database postgres

1. Delivery: N SMS rows (Tencent Cloud adapter, TC3-signed) delivered by one worker loop to the
   test suite's local provider peer on 127.0.0.1, which checks every signature.
2. Sweep: ``--parcels`` parcels bulk-inserted (90 % closed, 9 % waiting with a reminder later,
   1 % due now), then the time to find the due ones through the ``next_reminder_at`` index, and
   to sweep them all (each queues its reminder in the outbox). Prints its figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
import _setup  # noqa: E402


def _drain_in_children(workers: int) -> None:
    """``workers`` worker processes drain the outbox at once (forked: they share the settings
    that point at the local peer), claiming disjoint batches as separate `jianjian worker`s do."""
    import multiprocessing

    from django.db import connections

    from jianjian.notify.worker import drain

    connections.close_all()  # each child opens its own connection
    context = multiprocessing.get_context("fork")
    children = [context.Process(target=drain) for _ in range(workers)]
    for child in children:
        child.start()
    for child in children:
        child.join()
        assert child.exitcode == 0, child.exitcode


def bench_delivery(count: int, workers: int = 1) -> float:
    from django.conf import settings

    from jianjian.notify.models import Notification, Status
    from jianjian.notify.worker import drain
    from tests.factories import make_world
    from tests.notify import peers
    from tests.notify.conftest import tencent_config

    world = make_world()
    with peers.PeerServer(peers.ProviderPeer()) as peer:
        settings.NOTIFY_SMS = tencent_config(peer)
        Notification.objects.bulk_create(
            Notification(
                community=world.community,
                dedup_key=f"bench:{workers}:{i}",
                cause="intake",
                channel="sms",
                address="+8613812345678",
                body="bench",
                params={"point": "A", "code": f"A1-1-{i:03d}", "hours": "9-20", "deadline": "x"},
                next_attempt_at=world.community.created_at,
            )
            for i in range(count)
        )
        started = time.perf_counter()
        if workers == 1:
            drain()
        else:
            _drain_in_children(workers)
        elapsed = time.perf_counter() - started
        mine = Notification.objects.filter(dedup_key__startswith=f"bench:{workers}:")
        sent = mine.filter(status=Status.SENT).count()
        if sent != count:  # say why rather than stop: e.g. a peer too slow under load
            errors = mine.exclude(status=Status.SENT).values_list("status", "last_error")[:3]
            raise SystemExit(f"{sent} of {count} sent; e.g. {list(errors)}")
        # Each message once, also with several workers claiming at the same time.
        assert len(peer.received) == count and not peer.rejected, (len(peer.received), count)
        peer.received.clear()
    return count / elapsed


def load_parcels(total: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from jianjian.parcels.models import Parcel
    from tests.factories import make_world

    world = make_world()
    now = timezone.now()
    carrier = world.sf_courier.carrier
    batch: list[Parcel] = []
    for i in range(total):
        kind = i % 100
        if kind == 0:  # due now
            state, intake, nxt = (
                "at_point",
                now - dt.timedelta(hours=25),
                now - dt.timedelta(hours=1),
            )
        elif kind < 10:  # waiting, first reminder later
            state, intake, nxt = (
                "at_point",
                now - dt.timedelta(hours=2),
                now + dt.timedelta(hours=22),
            )
        else:  # picked up long ago: nothing due
            state, intake, nxt = "picked_up", now - dt.timedelta(days=30), None
        batch.append(
            Parcel(
                community=world.community,
                tracking_number=f"SF{2000000000000 + i}",
                carrier=carrier,
                state=state,
                point=world.counter if state == "at_point" else None,
                pickup_code=f"B{i}" if state == "at_point" else "",
                recipient_phone="+8613812345678",
                intake_at=intake,
                next_reminder_at=nxt,
            )
        )
        if len(batch) == 10_000:
            with transaction.atomic():
                Parcel.objects.bulk_create(batch)
            batch = []
    if batch:
        Parcel.objects.bulk_create(batch)


def bench_sweep(total: int) -> tuple[float, float, int]:
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from jianjian.notify.sweeps import sweep_parcels
    from jianjian.parcels.models import Parcel

    settings.NOTIFY_DEFAULT_CHANNEL = "log"
    started = time.perf_counter()
    load_parcels(total)
    print(f"  loaded {total:,} parcels in {time.perf_counter() - started:.0f} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE parcels_parcel")
    now = timezone.now()
    due = Parcel.objects.filter(next_reminder_at__lte=now).order_by("next_reminder_at")
    print("  plan:", due.values_list("pk", "next_reminder_at")[:500].explain().replace("\n", " | "))
    started = time.perf_counter()
    first_batch = len(list(due.values_list("pk", "next_reminder_at")[:500]))
    select_ms = (time.perf_counter() - started) * 1000
    swept = 0
    started = time.perf_counter()
    while (n := sweep_parcels(now)) > 0:
        swept += n
    sweep_s = time.perf_counter() - started
    assert first_batch == min(500, total // 100) and swept == total // 100, (first_batch, swept)
    return select_ms, sweep_s, swept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parcels", type=int, default=1_000_000)
    parser.add_argument("--notifications", type=int, default=2000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workers", type=int, default=1, help="worker processes delivering")
    args = parser.parse_args()
    _setup.configure(args.database, "notify")
    print(f"machine: {_setup.machine()}; database: {args.database}")
    for workers in sorted({1, args.workers}):
        rate = bench_delivery(args.notifications, workers)
        print(
            f"delivery: {rate:,.0f} notifications/s to the local HTTP peer (Tencent SMS, "
            f"signed), {workers} worker(s)"
        )
    select_ms, sweep_s, swept = bench_sweep(args.parcels)
    print(f"sweep: finding the first 500 due of {args.parcels:,} parcels: {select_ms:.1f} ms")
    print(
        f"sweep: {swept:,} due parcels reminded in {sweep_s:.1f} s ({swept / sweep_s:,.0f} parcels/s)"
    )


if __name__ == "__main__":
    main()
