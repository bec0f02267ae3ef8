"""A batch of scans (the station's scan stream, the API's batch endpoint) is decided set-based, and
must give what the same scans taken one by one give: the same outcome for each scan, in order,
the same stored parcels, events, day counts, point counts and outbox rows.

Each comparison runs the batch in one world and the scans one by one with ``intake()`` in a twin
world built the same way (same tracking numbers, same residents, same time).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jianjian.notify.models import Notification, ResidentPreference
from jianjian.ops.logs import JsonFormatter
from jianjian.parcels import services
from jianjian.parcels.errors import ParcelError
from jianjian.parcels.fold import check
from jianjian.parcels.lifecycle.batch import _BatchIntake
from jianjian.parcels.matching import RecipientInfo
from jianjian.parcels.models import CustodyEvent, Parcel
from jianjian.points.models import CollectionPoint, PointDay
from tests.factories import World, make_world, tracking

NOW = dt.datetime(2026, 3, 2, 2, 30, tzinfo=dt.UTC)  # 10:30 in Shanghai: no quiet hours


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


# --- the twin worlds -----------------------------------------------------------------------------


@dataclass
class Numbers:
    """The tracking numbers of the parcels each twin world holds before the batch."""

    announced: str
    announced_elsewhere: str
    announced_unknown: str
    here: str
    at_other_point: str
    missing: str
    returned: str
    picked_up: str


def _numbers() -> Numbers:
    return Numbers(*(tracking() for _ in range(8)))


def _twin(numbers: Numbers) -> World:
    """A world holding one parcel in each state a scan can meet."""
    world = make_world(capacity=9)
    world.community.name = "双胞胎社区"  # the same name in both worlds: the same message bodies
    world.community.save()
    resident = world.residents[1]
    ResidentPreference.objects.create(resident=resident, channels=["log", "email"], email="l@x.cn")
    # 张三 hears by SMS and is in his own quiet hour now: his messages wait until 11:00.
    zhang = world.residents[0]
    zhang.quiet_start, zhang.quiet_end = dt.time(10), dt.time(11)
    zhang.save()
    ResidentPreference.objects.create(resident=zhang, channels=["sms"])
    clerk = world.clerk
    for number, planned in (
        (numbers.announced, world.counter),
        (numbers.announced_elsewhere, world.counter2),
    ):
        services.announce(
            world.community,
            number,
            actor=clerk,
            recipient=RecipientInfo(resident=resident),
            planned_point=planned,
        )
    services.announce(world.community, numbers.announced_unknown, actor=clerk)
    phone = "13812345678"
    services.intake(world.counter, numbers.here, actor=clerk, phone=phone)
    services.intake(world.counter2, numbers.at_other_point, actor=clerk, phone=phone)
    missing = services.intake(world.counter, numbers.missing, actor=clerk, phone=phone).parcel
    services.mark_missing(missing, actor=clerk)
    returned = services.intake(world.counter, numbers.returned, actor=clerk, phone=phone).parcel
    services.return_to_courier(returned, courier=world.sf_courier, actor=clerk)
    gone = services.intake(world.counter, numbers.picked_up, actor=clerk, phone=phone).parcel
    services.hand_over(world.counter, [gone], actor=clerk)
    return world


def _one_by_one(point: CollectionPoint, scans: list[services.Scan], actor: services.Actor):  # type: ignore[no-untyped-def]
    outcomes: list[services.IntakeResult | ParcelError] = []
    for scan in scans:
        try:
            outcomes.append(services.intake(point, scan, actor=actor))
        except ParcelError as exc:
            outcomes.append(exc)
    return outcomes


def _outcome(o: services.IntakeResult | ParcelError) -> tuple[Any, ...]:
    if isinstance(o, ParcelError):
        return ("error", o.code, o.message, o.details)
    p = o.parcel
    return (
        p.tracking_number,
        p.pickup_code,
        o.created,
        o.duplicate,
        o.found,
        o.warnings,
        o.remaining_capacity,
    )


def _kind(o: services.IntakeResult | ParcelError) -> str:
    if isinstance(o, ParcelError):
        return o.code
    return "duplicate" if o.duplicate else "found" if o.found else "in"


def _stored(world: World) -> dict[str, Any]:
    """Everything intake writes, with ids replaced by what they stand for."""
    community = world.community
    parcels = {
        p.tracking_number: (
            p.state,
            p.point.code if p.point else None,
            p.slot.label if p.slot else None,
            p.pickup_code,
            p.size,
            p.recipient.phone if p.recipient else None,
            p.recipient_name,
            p.recipient_phone,
            p.recipient_last4,
            p.recipient_flat.code if p.recipient_flat else None,
            p.carrier.code,
            p.intake_at,
            p.next_reminder_at,
            p.closed_at,
            p.returned_to_id is not None,
            p.collected_by,
            p.event_count,
        )
        for p in Parcel.objects.filter(community=community).select_related(
            "point", "slot", "recipient", "recipient_flat", "carrier"
        )
    }
    events = sorted(
        (
            e.parcel.tracking_number,
            e.seq,
            e.kind,
            e.to_state,
            e.point.code if e.point else None,
            e.slot.label if e.slot else None,
            e.pickup_code,
            e.at,
            "the clerk" if e.actor_label == world.clerk.label else e.actor_label,
            e.method,
            json.dumps(e.data, sort_keys=True),
        )
        for e in CustodyEvent.objects.filter(community=community).select_related(
            "parcel", "point", "slot"
        )
    )
    numbers = dict(Parcel.objects.filter(community=community).values_list("pk", "tracking_number"))
    notifications = sorted(
        (
            _readable_key(n.dedup_key, numbers),
            n.cause,
            n.channel,
            n.address,
            n.language,
            n.body,
            json.dumps(n.params, sort_keys=True),
            n.next_attempt_at,
            n.parcel.tracking_number if n.parcel else None,
        )
        for n in Notification.objects.filter(community=community).select_related("parcel")
    )
    days = sorted(
        (d.point.code, d.date, d.intakes, d.overrides)
        for d in PointDay.objects.filter(point__community=community).select_related("point")
    )
    points = sorted(
        CollectionPoint.objects.filter(community=community).values_list(
            "code", "on_hand", "code_seq"
        )
    )
    return {
        "parcels": parcels,
        "events": events,
        "notifications": notifications,
        "days": days,
        "points": points,
    }


def _readable_key(key: str, numbers: dict[int, str]) -> str:
    cause, parcel_id, rest = key.split(":", 2)
    return f"{cause}:{numbers[int(parcel_id)]}:{rest}"


def _mixed_scans(n: Numbers) -> list[services.Scan]:
    """Every kind of scan a station meets; the counter (capacity 9) has 4 intakes today before."""
    Scan = services.Scan
    first = tracking()
    over = tracking()
    return [
        Scan(first, phone="13812345678"),  # new, typed phone: 5 today
        Scan("not a number!"),
        Scan(n.announced),  # pre-advised: no typing (6)
        Scan(tracking(), phone_last4="5678", flat="3-2-501"),  # 7
        Scan(first),  # the scanner read it twice
        Scan(n.here),  # already here: a re-scan
        Scan(n.at_other_point, phone="13812345678"),
        Scan(n.missing),  # recorded missing: found here
        Scan(tracking()),  # nobody said whose
        Scan(n.announced_unknown),  # pre-advised without a recipient: still whose?
        Scan(n.announced_elsewhere),  # planned for the other counter: taken in, warned (8)
        Scan(n.returned, phone="13912345678"),  # taken in again after a return (9: full)
        Scan(n.picked_up, phone="13812345678"),
        Scan(tracking(), phone="12"),
        Scan(tracking(), phone_last4="5678", flat="9-9-909"),
        Scan(tracking(), phone_last4="5678"),
        Scan(tracking(), phone="13812345678"),  # past capacity, no reason
        Scan(over, phone="13500000000", name="快递柜", size="L", override_reason="two couriers"),
        Scan(over),  # a re-scan of the overridden one
        Scan(tracking(), phone="13912345678"),  # still full
        Scan(tracking(), phone="13912345678", override_reason="  rain  "),
    ]


EXPECTED_KINDS = [
    "in",
    "tracking_invalid",
    "in",
    "in",
    "duplicate",
    "duplicate",
    "at_other_point",
    "found",
    "recipient_needed",
    "recipient_needed",
    "in",
    "in",
    "invalid_transition",
    "phone_invalid",
    "flat_unknown",
    "flat_needed",
    "capacity_exceeded",
    "in",
    "duplicate",
    "capacity_exceeded",
    "in",
]


def test_a_mixed_batch_gives_what_the_same_scans_give_one_by_one(db, frozen):
    numbers = _numbers()
    batch_world, single_world = _twin(numbers), _twin(numbers)
    scans = _mixed_scans(numbers)

    batched = services.intake_many(batch_world.counter, scans, actor=batch_world.clerk)
    single = _one_by_one(single_world.counter, scans, single_world.clerk)

    assert [_kind(o) for o in batched] == EXPECTED_KINDS
    assert [_outcome(o) for o in batched] == [_outcome(o) for o in single]
    assert _stored(batch_world) == _stored(single_world)
    wrong = batched[10]
    assert isinstance(wrong, services.IntakeResult) and wrong.warnings == ["wrong_point"]
    assert check(batch_world.community.pk).ok
    assert check(single_world.community.pk).ok


def test_a_batch_at_a_locker_gives_what_the_same_scans_give_one_by_one(db, frozen):
    """Compartments are allocated against what is in them: every scan goes the one-by-one way."""
    worlds = [make_world(), make_world()]
    for world in worlds:
        world.community.name = "双胞胎社区"
        world.community.save()
    shared = [tracking() for _ in range(5)]
    scans = [
        services.Scan(shared[0], phone="13812345678", size="M"),
        services.Scan(shared[1], phone="+86 186 0000 1111"),  # 王五 said no to lockers
        services.Scan(shared[2], phone="13912345678"),
        services.Scan(shared[0]),
        services.Scan(shared[3], phone="13912345678", size="L"),
        services.Scan(shared[4], phone="13912345678", size="S"),
    ]
    batched = services.intake_many(worlds[0].locker, scans, actor=worlds[0].clerk)
    single = _one_by_one(worlds[1].locker, scans, worlds[1].clerk)
    assert [_kind(o) for o in batched] == [
        "in",
        "locker_consent",
        "in",
        "duplicate",
        "no_room",
        "in",
    ]
    assert [_outcome(o) for o in batched] == [_outcome(o) for o in single]
    assert _stored(worlds[0]) == _stored(worlds[1])


def test_pickup_codes_skip_codes_still_held_in_a_batch_as_one_by_one(db, frozen):
    """A point whose code sequence wrapped round: the batch skips the codes parcels still hold."""
    worlds = [make_world(capacity=1000), make_world(capacity=1000)]
    shared = [tracking() for _ in range(30)]
    for world in worlds:
        world.community.name = "双胞胎社区"
        world.community.save()
        for number in shared[:8]:
            services.intake(world.counter, number, actor=world.clerk, phone="13812345678")
        # The sequence comes round again while codes 003, 005, 006 and 008 are still held.
        gone = Parcel.objects.filter(community=world.community).order_by("pk")
        services.hand_over(world.counter, [gone[0], gone[1], gone[3], gone[6]], actor=world.clerk)
        CollectionPoint.objects.filter(pk=world.counter.pk).update(code_seq=0)
    scans = [services.Scan(n, phone="13912345678") for n in shared[8:]]
    batched = services.intake_many(worlds[0].counter, scans, actor=worlds[0].clerk)
    single = _one_by_one(worlds[1].counter, scans, worlds[1].clerk)
    assert [_outcome(o) for o in batched] == [_outcome(o) for o in single]
    assert _stored(worlds[0]) == _stored(worlds[1])
    codes = list(
        Parcel.objects.filter(point=worlds[0].counter, state="at_point").values_list(
            "pickup_code", flat=True
        )
    )
    assert len(codes) == len(set(codes)) == 4 + 22
    assert check(worlds[0].community.pk).ok


# --- what the batch must keep beyond the stored state ----------------------------------------------


@pytest.fixture
def custody_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("jianjian.custody")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def test_every_event_a_batch_writes_is_logged_once_committed(
    world, custody_lines, django_capture_on_commit_callbacks
):
    scans = [services.Scan(tracking(), phone="13812345678") for _ in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = services.intake_many(world.counter, scans, actor=world.clerk)
    logged = [json.loads(line) for line in custody_lines.getvalue().splitlines()]
    ids = [o.parcel.pk for o in outcomes if isinstance(o, services.IntakeResult)]
    assert sorted(x["parcel_id"] for x in logged) == sorted(ids) and len(ids) == 5
    assert {(x["kind"], x["seq"], x["point_id"]) for x in logged} == {
        ("intake", 1, world.counter.pk)
    }


def _count_queries(world: World, size: int) -> int:
    scans = [
        services.Scan(tracking(), phone=phone)
        for phone in (["13812345678", "13912345678", "13500000000"] * size)[:size]
    ]
    with CaptureQueriesContext(connection) as queries:
        outcomes = services.intake_many(world.counter, scans, actor=world.clerk)
    assert all(isinstance(o, services.IntakeResult) and o.created for o in outcomes)
    return len(queries.captured_queries)


def test_a_batchs_queries_do_not_grow_with_its_size(world):
    world.counter.daily_capacity = 1000
    world.counter.save()
    _count_queries(world, 3)  # today's row exists from now on, as on any busy day
    small, large = _count_queries(world, 5), _count_queries(world, 25)
    assert small == large
    # One scan alone through intake() takes about 14; 50 in a batch take no more than 18
    # (a little more on SQLite, whose limit of 999 parameters a statement splits the inserts).
    assert _count_queries(world, 50) <= 18


def test_a_number_inserted_meanwhile_by_another_writer_sends_the_batch_one_by_one(
    world, monkeypatch
):
    """The batch reads its parcels, then another point's clerk takes one of the numbers in before
    the batch inserts it: the insert fails, and the batch is redone scan by scan."""
    raced = tracking()
    scans = [
        services.Scan(tracking(), phone="13812345678"),
        services.Scan(raced, phone="13812345678"),
        services.Scan(tracking(), phone="13912345678"),
    ]
    services.intake(world.counter2, raced, actor=world.clerk, phone="13812345678")
    read = _BatchIntake._read_parcels
    monkeypatch.setattr(
        _BatchIntake,
        "_read_parcels",
        lambda self, numbers: {k: v for k, v in read(self, numbers).items() if k != raced},
    )
    outcomes = services.intake_many(world.counter, scans, actor=world.clerk)
    assert [_kind(o) for o in outcomes] == ["in", "at_other_point", "in"]
    assert Parcel.objects.filter(tracking_number=raced).count() == 1
    assert PointDay.objects.get(point=world.counter).intakes == 2
    assert check(world.community.pk).ok


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_batches_racing_over_the_same_numbers_at_two_points(attempt):
    """Each number ends up at one point with one event; the other batch is told where it is. On
    PostgreSQL the second insert waits for the first, fails, and its batch goes one by one."""
    world = make_world(capacity=1000)
    shared = [tracking() for _ in range(10)]
    own = [[tracking() for _ in range(5)], [tracking() for _ in range(5)]]
    results: list[object] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2)

    def run(point: CollectionPoint, numbers: list[str]) -> None:
        scans = [services.Scan(n, phone="13812345678") for n in numbers]
        try:
            barrier.wait()
            outcome: object = services.intake_many(point, scans, actor=world.clerk)
        except Exception as exc:  # recorded, and checked below
            outcome = exc
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [
        threading.Thread(target=run, args=(world.counter, shared + own[0])),
        threading.Thread(target=run, args=(world.counter2, own[1] + shared[::-1])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(not t.is_alive() for t in threads)
    assert not [r for r in results if isinstance(r, Exception)], results
    for number in shared:
        assert Parcel.objects.filter(tracking_number=number).count() == 1
        assert CustodyEvent.objects.filter(parcel__tracking_number=number).count() == 1
    kinds = sorted(_kind(o) for r in results for o in r)  # type: ignore[attr-defined]
    assert kinds == sorted(["in"] * (10 + 10) + ["at_other_point"] * 10)
    assert check(world.community.pk).ok


# --- random scan streams: the batch and one scan at a time agree on everything ----------------

# What a clerk may type with a scan (indices drawn by Hypothesis; fixed values, so both twins get
# the same): nothing, a known phone, an unknown phone, tail + flat, a tail alone, a bad phone.
_TYPED: list[dict[str, str]] = [
    {},
    {"phone": "13812345678"},
    {"phone": "13912345678"},
    {"phone": "13300001234"},
    {"phone_last4": "5678", "flat": "3-2-501"},
    {"phone_last4": "5678"},
    {"phone": "12"},
]
_EXTRA: list[dict[str, str]] = [
    {},
    {"override_reason": "rain"},
    {"size": "L"},
    {"carrier": "sto"},
]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 13),  # which number (see below)
            st.integers(0, len(_TYPED) - 1),
            st.integers(0, len(_EXTRA) - 1),
        ),
        min_size=1,
        max_size=14,
    )
)
def test_random_scan_streams_store_the_same_batched_or_one_by_one(db, frozen, picks):
    numbers = _numbers()
    fresh = [tracking() for _ in range(3)]
    ambiguous = f"43{int(fresh[0][2:]) % 10**13:013d}"  # STO's and Yunda's format at once
    pool = [
        *vars(numbers).values(),  # 8 numbers, one parcel in each state a scan can meet
        *fresh,
        ambiguous,
        "not a number!",
        fresh[0].lower(),  # the same number typed in lower case
    ]
    scans = [
        services.Scan(pool[n], **_TYPED[typed], **_EXTRA[extra])  # type: ignore[arg-type]
        for n, typed, extra in picks
    ]
    batch_world, single_world = _twin(numbers), _twin(numbers)
    batched = services.intake_many(batch_world.counter, scans, actor=batch_world.clerk)
    single = _one_by_one(single_world.counter, scans, single_world.clerk)
    assert [_outcome(o) for o in batched] == [_outcome(o) for o in single]
    assert _stored(batch_world) == _stored(single_world)
    assert check(batch_world.community.pk).ok
