"""The bulk paths of a manifest: COPY on PostgreSQL writes exactly what bulk_create writes.

A 100,000-row manifest is announced and allocated with COPY on PostgreSQL and with the ORM's
bulk_create on SQLite. Whatever the path, a parcel must read back the same, with the same
announce event and the same overflow verdict; names come from couriers' files and reach COPY's
text format, so hostile ones must come back byte for byte.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection, transaction

from jianjian import bulk, clock
from jianjian.couriers import allocation
from jianjian.couriers.manifests import ManifestError, import_rows, read_file
from jianjian.couriers.models import Overflow
from jianjian.ops.logs import JsonFormatter
from jianjian.parcels import fold, services
from jianjian.parcels.lifecycle import announce as announce_module
from jianjian.parcels.models import CustodyEvent, Parcel
from tests.factories import tracking

pytestmark = pytest.mark.django_db
ACTOR = services.Actor.system("test")
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY exists on PostgreSQL only"
)

# What couriers' files put in a name field: COPY text format's own delimiters and escapes
# (tab, newline, carriage return, backslash, ``\N`` which means NULL), quotes, CSV commas.
HOSTILE_NAMES = [
    "张\t三",
    "line one\nline two",
    "carriage\rreturn",
    "back\\slash",
    "\\N",
    "\\.",
    "ends with a backslash \\",
    "\"double\" and 'single' quotes",
    "a, b; c",
    "=cmd|' /C calc'!A0",
    "",
]


def _rows(world: Any, numbers: list[str]) -> list[services.Announcement]:
    names = HOSTILE_NAMES * (len(numbers) // len(HOSTILE_NAMES) + 1)
    residents = [world.residents[0].pk, None]
    flats = [world.flats[0].pk, world.flats[1].pk, None]
    return [
        services.Announcement(
            tracking_number=number,
            carrier_code="sf",
            name=names[i],
            phone="13812345678" if i % 2 == 0 else "13900000000",
            resident_id=residents[i % 2],
            flat_id=flats[i % 3],
            size="SML"[i % 3],
        )
        for i, number in enumerate(numbers)
    ]


def _snapshot(world: Any) -> dict[str, Any]:
    """Everything the writes produced, keyed by tracking number (ids and write times aside)."""
    number = dict(Parcel.objects.values_list("pk", "tracking_number"))
    parcels = {
        p.pop("tracking_number"): p
        for p in Parcel.objects.filter(community=world.community).values()
    }
    for p in parcels.values():
        for volatile in ("id", "created_at", "updated_at"):
            p.pop(volatile)
    events = {}
    for e in CustodyEvent.objects.filter(community=world.community).values():
        events[number[e.pop("parcel_id")]] = e
        e.pop("id")
    overflow = {
        number[o["parcel_id"]]: (o["reasons"], o["computed_at"])
        for o in Overflow.objects.filter(community=world.community).values()
    }
    return {"parcels": parcels, "events": events, "overflow": overflow}


def _write_and_roll_back(world: Any, rows: list[services.Announcement]) -> dict[str, Any]:
    """Announce and allocate ``rows``, read back what was written, then undo it all."""
    snapshot: dict[str, Any] = {}
    with pytest.raises(RuntimeError), transaction.atomic():
        services.announce_many(world.community, rows, actor=world.clerk, courier=world.sf_courier)
        allocation.reallocate(world.community)
        snapshot = _snapshot(world)
        raise RuntimeError("roll back")
    return snapshot


@postgres_only
def test_copy_and_bulk_create_write_identical_parcels_events_and_overflow(world, monkeypatch):
    world.counter.daily_capacity = 3
    world.counter.save()
    world.counter2.daily_capacity = 0
    world.counter2.save()
    rows = _rows(world, [tracking() for _ in range(40)])
    with clock.at(dt.datetime(2026, 11, 3, 1, 30, tzinfo=dt.UTC)):
        copied = _write_and_roll_back(world, rows)
        monkeypatch.setattr(bulk, "available", lambda using="default": False)
        created = _write_and_roll_back(world, rows)
    assert len(copied["parcels"]) == 40 and len(copied["events"]) == 40
    assert copied["overflow"], "the test must cover overflow rows too"
    assert copied == created


def test_hostile_names_from_a_file_come_back_byte_for_byte(world):
    out = io.StringIO()
    out.write("tracking_number,phone,name\n")
    numbers = [tracking() for _ in HOSTILE_NAMES]
    for number, name in zip(numbers, HOSTILE_NAMES, strict=True):
        quoted = '"' + name.replace('"', '""') + '"'
        out.write(f"{number},13812345678,{quoted}\n")
    report = import_rows(
        world.community,
        read_file("m.csv", out.getvalue().encode()),
        actor=ACTOR,
        source="csv",
    )
    assert report.errors == [] and report.imported == len(HOSTILE_NAMES)
    stored = dict(Parcel.objects.values_list("tracking_number", "recipient_name"))
    assert [stored[n] for n in numbers] == HOSTILE_NAMES
    assert fold.check(world.community.pk).problems == []


def test_a_nul_byte_deep_in_a_file_refuses_the_file_and_writes_nothing(world):
    """PostgreSQL cannot store NUL in text: the file is refused, not failed at the insert."""
    rows = "".join(f"{tracking()},13812345678,resident\n" for _ in range(300))
    data = f"tracking_number,phone,name\n{rows}{tracking()},13812345678,a\x00b\n".encode()
    with pytest.raises(ManifestError) as exc:
        import_rows(world.community, read_file("m.csv", data), actor=ACTOR, source="csv")
    assert exc.value.code == "not_text"
    assert not Parcel.objects.filter(community=world.community).exists()


def test_a_number_announced_meanwhile_sends_its_batch_row_by_row(world, monkeypatch):
    """A concurrent announcer: the bulk insert hits the unique constraint and the batch falls
    back to announce() row by row, which reports the number as known and writes the rest."""
    raced, fresh = tracking(), tracking()
    services.announce(world.community, raced, actor=ACTOR)
    # The number was not there when this batch looked (it arrived between look and write).
    monkeypatch.setattr(announce_module, "_known_numbers", lambda community, numbers: set())
    created, known = services.announce_many(
        world.community, _rows(world, [raced, fresh]), actor=ACTOR
    )
    assert (created, known) == (1, [raced])
    assert Parcel.objects.filter(tracking_number__in=[raced, fresh]).count() == 2
    assert CustodyEvent.objects.filter(parcel__tracking_number=raced).count() == 1
    assert fold.check(world.community.pk).problems == []


@pytest.fixture
def custody_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("jianjian.custody")
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


def test_a_manifest_logs_one_summary_line_not_one_per_parcel(
    world, custody_lines, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(announce_module, "ANNOUNCE_BATCH", 7)  # several batches, still one line
    data = "tracking_number,phone\n" + "".join(f"{tracking()},13812345678\n" for _ in range(20))
    with django_capture_on_commit_callbacks(execute=True):
        report = import_rows(
            world.community, read_file("m.csv", data.encode()), actor=ACTOR, source="csv"
        )
    assert report.imported == 20
    (line,) = custody_lines()
    assert line["msg"] == "custody events" and line["count"] == 20
    assert line["kind"] == "announce" and line["community_id"] == world.community.pk


def test_a_rolled_back_manifest_logs_nothing(
    world, custody_lines, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.announce_many(world.community, _rows(world, [tracking()]), actor=ACTOR)
        raise RuntimeError("abort")
    assert custody_lines() == []


def test_reallocating_to_the_same_plan_rewrites_nothing(world):
    for point in world.points:
        point.daily_capacity = 0
        point.save()
    services.announce_many(
        world.community, _rows(world, [tracking() for _ in range(5)]), actor=ACTOR
    )
    first = dt.datetime(2026, 11, 3, 1, 0, tzinfo=dt.UTC)
    allocation.reallocate(world.community, now=first)
    rows = dict(Overflow.objects.values_list("pk", "computed_at"))
    allocation.reallocate(world.community, now=first + dt.timedelta(hours=1))
    assert dict(Overflow.objects.values_list("pk", "computed_at")) == rows


def test_overflow_rows_follow_the_plan_when_it_changes(world):
    for point in world.points:
        point.daily_capacity = 0
        point.save()
    parcels = [services.announce(world.community, tracking(), actor=ACTOR)[0] for _ in range(3)]
    allocation.reallocate(world.community)
    assert Overflow.objects.count() == 3
    world.counter2.daily_capacity = 1
    world.counter2.save()  # recomputes on commit; run it here
    allocation.reallocate(world.community)
    assert Parcel.objects.get(pk=parcels[0].pk).planned_point_id == world.counter2.pk
    assert set(Overflow.objects.values_list("parcel_id", flat=True)) == {
        parcels[1].pk,
        parcels[2].pk,
    }
