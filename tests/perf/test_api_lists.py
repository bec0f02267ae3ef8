"""The API's list endpoints read a page in a fixed number of queries, however long the list."""

from __future__ import annotations

import datetime as dt

import pytest

from jianjian import clock
from jianjian.couriers.manifests import import_rows, read_json
from jianjian.parcels import services
from jianjian.points.models import CollectionPoint, PointKind
from tests.factories import tracking
from tests.perf.conftest import assert_flat, take_in

pytestmark = pytest.mark.django_db


def _ok(response):  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content[:300]
    return response.json()


def _announce(world, n: int) -> None:  # type: ignore[no-untyped-def]
    """``n`` parcels announced by the SF courier's manifest (one manifest)."""
    import_rows(
        world.community,
        read_json([{"tracking_number": tracking(), "phone": "13912345678"} for _ in range(n)]),
        actor=services.Actor.system("t"),
        source="json",
        courier=world.sf_courier,
    )


def test_parcels_list_does_not_grow(api):
    take_in(api.world, 1)
    _s, large = assert_flat(lambda: api.admin.get("/parcels"), lambda: take_in(api.world, 19))
    assert large.json()["count"] == 20


def test_points_list_does_not_grow_with_points(api):
    world = api.world
    take_in(world, 1)
    _announce(world, 2)

    def more_points() -> None:
        for n in range(17):
            CollectionPoint.objects.create(
                community=world.community,
                code=f"{'MN'[n // 10]}{n % 10}",  # codes are at most 2 characters
                name=f"p{n}",
                kind=PointKind.COUNTER,
            )

    _s, large = assert_flat(lambda: api.admin.get("/points"), more_points)
    body = _ok(large)
    assert body["count"] == 20
    counter = next(p for p in body["items"] if p["id"] == world.counter.pk)
    assert counter["taken_in_today"] == 1 and counter["on_hand"] == 1


def test_couriers_list_does_not_grow(api):
    from jianjian.couriers.models import Carrier, Courier

    def more() -> None:
        sf = Carrier.objects.get(code="sf")
        for n in range(18):
            Courier.objects.create(
                carrier=sf, name=f"c{n}", phone=f"137000100{n:02d}"
            ).communities.add(api.world.community)

    _s, large = assert_flat(lambda: api.admin.get("/couriers"), more)
    assert _ok(large)["count"] == 20


def test_returns_list_does_not_grow(api, time_machine):
    world = api.world
    past = clock.now()
    take_in(world, 1)
    later = past + dt.timedelta(days=30)
    time_machine.move_to(later)

    def more() -> None:
        time_machine.move_to(past)
        take_in(world, 19)
        time_machine.move_to(later)

    _s, large = assert_flat(lambda: api.admin.get("/returns"), more)
    assert _ok(large)["count"] == 20


def test_drop_plan_does_not_grow_with_announced_parcels(api):
    world = api.world
    _announce(world, 1)
    url = f"/drop-plans/{world.community.slug}"
    _s, large = assert_flat(lambda: api.sf.get(url), lambda: _announce(world, 19))
    body = _ok(large)
    assert sum(stop["count"] for stop in body["points"]) + len(body["overflow"]) == 20


def test_manifests_list_does_not_grow(api):
    world = api.world
    _announce(world, 1)

    def more() -> None:
        for _ in range(19):
            _announce(world, 1)

    _s, large = assert_flat(lambda: api.sf.get("/manifests"), more)
    assert _ok(large)["count"] == 20
