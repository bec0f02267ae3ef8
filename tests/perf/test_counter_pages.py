"""The counter's pages answer in a fixed number of queries, however many parcels they list."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from jianjian import clock
from tests.factories import tracking
from tests.perf.conftest import assert_flat, take_in
from tests.web.conftest import make_clerk

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(client, world):  # type: ignore[no-untyped-def]
    client.force_login(make_clerk(world, world.counter))
    return client


def test_choose_point_does_not_grow_with_points(world, clerk):
    membership = world.clerk.user.memberships.get()
    _small, large = assert_flat(
        lambda: clerk.get(reverse("counter:choose")),
        lambda: membership.points.add(world.counter2, world.locker),
    )
    assert len(large.context["points"]) == 3


@pytest.mark.parametrize("screen", ["counter:intake", "counter:pickup", "counter:parcels"])
def test_screens_do_not_grow_with_parcels_on_hand(world, clerk, screen):
    take_in(world, 1)
    assert_flat(
        lambda: clerk.get(reverse(screen, args=[world.counter.pk])),
        lambda: take_in(world, 19),
    )


def test_pickup_lookup_by_phone_tail_does_not_grow_with_parcels(world, clerk):
    take_in(world, 1)
    url = reverse("counter:lookup", args=[world.counter.pk])
    _small, large = assert_flat(
        lambda: clerk.post(url, {"q": "5678"}, HTTP_HX_REQUEST="true"),
        lambda: take_in(world, 19),
    )
    assert large.content.decode().count('name="parcel"') == 20


def test_returns_screen_does_not_grow_with_parcels_due_back(world, client, time_machine):
    world.sf_courier.communities.add(world.community)
    past = clock.now()
    take_in(world, 1)
    later = past + dt.timedelta(days=30)
    time_machine.move_to(later)
    client.force_login(make_clerk(world, world.counter))  # a session that is valid then
    url = reverse("counter:returns", args=[world.counter.pk])

    def more_due_back() -> None:
        time_machine.move_to(past)
        take_in(world, 19)
        time_machine.move_to(later)

    _small, large = assert_flat(lambda: client.get(url), more_due_back)
    assert sum(len(g.parcels) for g in large.context["groups"]) == 20


def test_queued_labels_do_not_grow_with_the_queue(world, clerk):
    scan = reverse("counter:scan", args=[world.counter.pk])

    def scan_in(n: int) -> None:
        for _ in range(n):
            response = clerk.post(scan, {"number": tracking(), "phone": "13812345678"})
            assert response.status_code == 200

    scan_in(1)
    _small, large = assert_flat(
        lambda: clerk.get(reverse("counter:labels", args=[world.counter.pk])),
        lambda: scan_in(19),
    )
    assert large["Content-Type"] == "application/pdf"
