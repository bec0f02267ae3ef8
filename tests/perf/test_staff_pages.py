"""The courier's pages, the reports dashboard, stocktake and missing-parcel cases answer in a
fixed number of queries, however many parcels, points or scans they show."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from jianjian import clock
from jianjian.communities.models import Membership, StaffRole
from jianjian.couriers.manifests import import_rows, read_json
from jianjian.parcels import services
from jianjian.stocktake import services as st
from tests.factories import tracking
from tests.perf.conftest import assert_flat, queries_of, take_in
from tests.web.conftest import make_clerk

pytestmark = pytest.mark.django_db


@pytest.fixture
def courier(world) -> Client:  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user("sf-perf")
    world.sf_courier.user = user
    world.sf_courier.save()
    world.sf_courier.communities.add(world.community)
    client = Client()
    client.force_login(user)
    return client


def _announce(world, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    numbers = [tracking() for _ in range(n)]
    import_rows(
        world.community,
        read_json([{"tracking_number": t, "phone": "13912345678"} for t in numbers]),
        actor=services.Actor.system("t"),
        source="json",
        courier=world.sf_courier,
    )
    return numbers


def _announce_and_receive(world, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    """``n`` parcels announced by the SF courier, half of them taken in at the counter."""
    numbers = _announce(world, n)
    for number in numbers[: n // 2]:
        services.intake(world.counter, number, actor=world.clerk)
    return numbers


def test_courier_home_does_not_grow_with_plan_and_receipts(world, courier):
    _announce_and_receive(world, 2)
    more: list[str] = []
    _s, large = assert_flat(
        lambda: courier.get("/courier/"), lambda: more.extend(_announce_and_receive(world, 20))
    )
    html = large.content.decode()
    assert more[0] in html and more[-1] in html  # a receipt and a planned parcel are listed


def test_courier_plan_csv_does_not_grow(world, courier):
    _announce(world, 1)
    url = f"/courier/plan/{world.community.slug}.csv"

    def read():  # type: ignore[no-untyped-def]
        response = courier.get(url)
        response.body = b"".join(response.streaming_content) if response.streaming else None
        return response

    _s, large = assert_flat(read, lambda: _announce(world, 19))
    body = large.body if large.body is not None else large.content
    assert body.decode("utf-8-sig").count("SF") >= 20


@pytest.fixture
def committee(world, client):  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user("committee-perf")
    Membership.objects.create(user=user, community=world.community, role=StaffRole.COMMITTEE)
    client.force_login(user)
    return client


def test_reports_dashboard_does_not_grow_with_parcels(world, committee):
    take_in(world, 1)
    today = clock.now().date()
    url = f"/reports/{world.community.slug}/?start={today - dt.timedelta(days=1)}&end={today}"
    assert_flat(lambda: committee.get(url), lambda: take_in(world, 19))


@pytest.fixture
def clerk(client, world):  # type: ignore[no-untyped-def]
    client.force_login(make_clerk(world, world.counter))
    return client


def test_stocktake_session_does_not_grow_with_scans(world, clerk):
    parcels = take_in(world, 20)
    take = st.start(world.counter, actor=world.clerk)
    st.scan(take, parcels[0].tracking_number, actor=world.clerk)
    st.scan(take, tracking(), actor=world.clerk)  # one that is not on the books

    def scan_more() -> None:
        for parcel in parcels[1:]:
            st.scan(take, parcel.tracking_number, actor=world.clerk)
        for _ in range(5):
            st.scan(take, tracking(), actor=world.clerk)

    assert_flat(lambda: clerk.get(f"/stocktake/{take.pk}/"), scan_more)


def test_stocktake_point_page_and_report_do_not_grow(world, clerk):
    parcels = take_in(world, 20)

    def stocktake(scanned: list) -> int:  # type: ignore[type-arg]
        take = st.start(world.counter, actor=world.clerk)
        for parcel in scanned:
            st.scan(take, parcel.tracking_number, actor=world.clerk)
        return st.finish(take, actor=world.clerk).pk

    first = stocktake(parcels[:1])
    assert_flat(
        lambda: clerk.get(f"/stocktake/point/{world.counter.pk}/"),
        lambda: [stocktake(parcels) for _ in range(3)],
    )
    later = stocktake(parcels)
    clerk.get(f"/stocktake/{first}/report/")  # warm-up
    small, _ = queries_of(lambda: clerk.get(f"/stocktake/{first}/report/"))
    large, _ = queries_of(lambda: clerk.get(f"/stocktake/{later}/report/"))
    assert large == small


def test_missing_cases_list_does_not_grow(world, clerk):
    def lose(n: int) -> None:
        for parcel in take_in(world, n):
            services.mark_missing(parcel, actor=world.clerk, note="not on the shelf")

    lose(1)
    assert_flat(lambda: clerk.get("/missing/"), lambda: lose(19))
