"""The counter's read-only lookups: what they find, and a number of queries that does not grow."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jianjian.communities.models import PickupProxy
from jianjian.communities.qr import make_token
from jianjian.parcels import queries, services
from jianjian.parcels.errors import InvalidInput, NotFound
from jianjian.parcels.models import Method
from jianjian.points.models import CollectionPoint
from jianjian.residents.pickup import make_proxy_token
from tests.factories import World, make_world, tracking
from tests.web.conftest import make_clerk

NOW = dt.datetime.now(dt.UTC)


def _fill(world: World, n: int, resident: int = 0) -> list:  # type: ignore[type-arg]
    return [
        services.intake(
            world.counter, tracking(), actor=world.clerk, phone=world.residents[resident].phone
        ).parcel
        for _ in range(n)
    ]


def test_code_lookup_finds_every_parcel_of_that_resident_here(world):
    mine = _fill(world, 3)
    _fill(world, 1, resident=1)
    lookup = queries.lookup_for_pickup(world.counter, f" {mine[1].pickup_code.lower()} ", NOW)
    assert lookup.method == Method.CODE and lookup.single
    assert {p.pk for p in lookup.parcels} == {p.pk for p in mine}


def test_phone_tail_shared_by_two_residents_gives_two_groups(world):
    _fill(world, 1, resident=0)  # 13812345678
    _fill(world, 1, resident=1)  # 13912345678
    lookup = queries.lookup_for_pickup(world.counter, "5678", NOW)
    assert not lookup.single and len(lookup.groups) == 2


def test_proxy_tail_finds_only_what_the_proxy_may_collect(world):
    _first, second = _fill(world, 2)
    PickupProxy.objects.create(
        community=world.community,
        resident=world.residents[0],
        phone="13600009999",
        parcel=second,
        valid_until=NOW + dt.timedelta(days=1),
    )
    lookup = queries.lookup_for_pickup(world.counter, "9999", NOW)
    assert [p.pk for p in lookup.parcels] == [second.pk]
    assert lookup.groups[0].proxy is not None


def test_expired_or_revoked_proxy_finds_nothing(world):
    _fill(world, 1)
    PickupProxy.objects.create(
        community=world.community,
        resident=world.residents[0],
        phone="13600009999",
        valid_until=NOW - dt.timedelta(minutes=1),
    )
    with pytest.raises(NotFound):
        queries.lookup_for_pickup(world.counter, "9999", NOW)


def test_qr_of_another_community_is_invalid(world):
    _fill(world, 1)
    token = make_token(world.residents[0].pk, world.community.pk + 1000)
    with pytest.raises(InvalidInput) as exc:
        queries.lookup_for_pickup(world.counter, token, NOW)
    assert exc.value.code == "qr_invalid"


def _grant(world: World, parcel=None, **kwargs) -> PickupProxy:  # type: ignore[no-untyped-def]
    fields = {"valid_until": NOW + dt.timedelta(days=1), **kwargs}
    return PickupProxy.objects.create(
        community=world.community,
        resident=world.residents[0],
        phone="13600009999",
        parcel=parcel,
        **fields,
    )


def test_proxy_qr_finds_only_the_parcel_of_its_grant_and_names_the_proxy(world):
    _first, second = _fill(world, 2)
    _fill(world, 1, resident=1)
    grant = _grant(world, parcel=second)
    lookup = queries.lookup_for_pickup(world.counter, make_proxy_token(grant), NOW)
    assert lookup.method == Method.QR and lookup.single
    assert [p.pk for p in lookup.parcels] == [second.pk]
    assert lookup.groups[0].proxy == grant


def test_proxy_qr_for_all_parcels_finds_only_that_residents_parcels(world):
    mine = _fill(world, 2)
    _fill(world, 1, resident=1)
    lookup = queries.lookup_for_pickup(world.counter, make_proxy_token(_grant(world)), NOW)
    assert {p.pk for p in lookup.parcels} == {p.pk for p in mine}


def test_proxy_qr_prefix_is_read_whatever_its_case(world):
    _fill(world, 1)
    token = make_proxy_token(_grant(world))
    lookup = queries.lookup_for_pickup(world.counter, "jj1p:" + token[5:], NOW)
    assert len(lookup.parcels) == 1


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"revoked_at": NOW - dt.timedelta(minutes=1)}, "proxy_inactive"),
        ({"valid_until": NOW - dt.timedelta(minutes=1)}, "proxy_inactive"),
    ],
    ids=["revoked", "grant_over"],
)
def test_proxy_qr_of_a_grant_that_is_over_is_refused_with_its_reason(world, change, code):
    _fill(world, 1)
    grant = _grant(world, **change)
    with pytest.raises(InvalidInput) as exc:
        queries.lookup_for_pickup(world.counter, make_proxy_token(grant), NOW)
    assert exc.value.code == code


def test_proxy_qr_that_expired_or_was_forged_or_is_of_another_community_is_refused(world):
    _fill(world, 1)
    token = make_proxy_token(_grant(world))
    import time_machine

    with (
        # From the real now: the token was signed now, NOW is when this module was imported.
        time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)),
        pytest.raises(InvalidInput) as expired,
    ):
        queries.lookup_for_pickup(world.counter, token, NOW)
    assert expired.value.code == "qr_expired"
    with pytest.raises(InvalidInput) as forged:
        queries.lookup_for_pickup(world.counter, token[:-3] + "xyz", NOW)
    assert forged.value.code == "qr_invalid"
    other = make_world()
    with pytest.raises(InvalidInput) as elsewhere:
        queries.lookup_for_pickup(other.counter, token, NOW)
    assert elsewhere.value.code == "qr_invalid"


def test_proxy_qr_with_nothing_left_to_collect_says_so(world):
    parcel = _fill(world, 1)[0]
    grant = _grant(world, parcel=parcel)
    services.hand_over(world.counter, [parcel], actor=world.clerk)
    with pytest.raises(NotFound):
        queries.lookup_for_pickup(world.counter, make_proxy_token(grant), NOW)


def test_empty_lookup_is_invalid_input(world):
    with pytest.raises(InvalidInput):
        queries.lookup_for_pickup(world.counter, "  ", NOW)


@pytest.mark.parametrize(
    "query",
    [
        lambda w, p: p[0].pickup_code,
        lambda w, p: "5678",
        lambda w, p: make_token(w.residents[0].pk, w.community.pk),
        lambda w, p: "13812345678",
        lambda w, p: make_proxy_token(_grant(w)),
    ],
    ids=["code", "phone_tail", "qr", "phone", "proxy_qr"],
)
def test_pickup_lookup_runs_a_fixed_number_of_queries(world, query):
    few = _fill(world, 1)
    with CaptureQueriesContext(connection) as small:
        queries.lookup_for_pickup(world.counter, query(world, few), NOW)
    more = few + _fill(world, 25)
    with CaptureQueriesContext(connection) as large:
        lookup = queries.lookup_for_pickup(world.counter, query(world, more), NOW)
    assert len(lookup.parcels) == 26
    assert len(large) == len(small) <= 3


def test_pickup_code_lookup_is_two_queries(world, django_assert_num_queries):
    parcels = _fill(world, 10)
    with django_assert_num_queries(2):
        lookup = queries.lookup_for_pickup(world.counter, parcels[0].pickup_code, NOW)
        [p.slot.label for p in lookup.parcels]  # rows are complete: no lazy loads


def test_on_hand_list_is_three_queries_whatever_its_length(world, django_assert_num_queries):
    _fill(world, 30)
    point = CollectionPoint.objects.select_related("community").get(pk=world.counter.pk)
    # The point's closures (for the dead cutoff: its closing times), the parcels, the carriers.
    with django_assert_num_queries(3):
        page = queries.on_hand(point, NOW)
        [(r.recipient, r.parcel.slot.label, r.parcel.carrier.name) for r in page.rows]
    assert len(page.rows) == 30


def test_on_hand_page_and_pickup_view_do_not_grow_with_parcels(client, world):
    client.force_login(make_clerk(world))
    url = reverse("counter:parcels", args=[world.counter.pk])
    lookup = reverse("counter:lookup", args=[world.counter.pk])
    _fill(world, 1)
    client.get(url)  # warms what a process learns once (the point's community)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
        client.post(lookup, {"q": "5678"}, HTTP_HX_REQUEST="true")
    _fill(world, 30)
    with CaptureQueriesContext(connection) as large:
        client.get(url)
        client.post(lookup, {"q": "5678"}, HTTP_HX_REQUEST="true")
    assert len(large) == len(small)


def test_on_hand_search_by_code_number_and_tail(world):
    a, b = _fill(world, 1)[0], _fill(world, 1, resident=2)[0]
    assert [r.parcel for r in queries.on_hand(world.counter, NOW, search=a.pickup_code).rows] == [a]
    part = b.tracking_number[-6:]
    assert [r.parcel for r in queries.on_hand(world.counter, NOW, search=part).rows] == [b]
    assert [r.parcel for r in queries.on_hand(world.counter, NOW, search="1111").rows] == [b]
    sf = queries.on_hand(world.counter, NOW, carrier="zto").rows
    assert sf == []


def test_on_hand_list_stops_at_its_limit_and_says_so(world):
    _fill(world, 4)
    page = queries.on_hand(world.counter, NOW, limit=3)
    assert len(page.rows) == 3 and page.truncated


def test_due_for_return_groups_dead_parcels_by_carrier(world):
    later = NOW + dt.timedelta(days=8)
    sf = _fill(world, 2)
    zto = services.intake(
        world.counter, tracking("zto"), actor=world.clerk, phone=world.residents[0].phone
    ).parcel
    world.sf_courier.communities.add(world.community)
    groups = queries.due_for_return(world.counter, later)
    by_code = {g.carrier.code: g for g in groups}
    assert {p.pk for p in by_code["sf"].parcels} == {p.pk for p in sf}
    assert [p.pk for p in by_code["zto"].parcels] == [zto.pk]
    assert by_code["sf"].couriers == [world.sf_courier] and by_code["zto"].couriers == []
    assert queries.due_for_return(world.counter, NOW) == []
