"""The resident's pages list parcels, proxy grants and cases in a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jianjian import clock
from jianjian.communities.models import Membership, PickupProxy, StaffRole
from jianjian.residents import cases
from jianjian.residents.models import CaseKind
from tests.perf.conftest import assert_flat, take_in

pytestmark = pytest.mark.django_db


def _grants_to_me(world, count: int) -> None:  # type: ignore[no-untyped-def]
    """``count`` grants from the neighbour (resident 1) to the signed-in resident's phone, each
    for one waiting parcel of the neighbour's."""
    for parcel in take_in(world, count, resident=1):
        PickupProxy.objects.create(
            community=world.community,
            resident=world.residents[1],
            phone=world.residents[0].phone,
            parcel=parcel,
            valid_until=clock.now() + dt.timedelta(days=1),
        )


def test_me_does_not_grow_with_proxy_grants(world, resident_client):
    take_in(world, 1)
    _grants_to_me(world, 1)
    small, large = assert_flat(lambda: resident_client.get("/me/"), lambda: _grants_to_me(world, 4))
    # The page shows what the grants let this resident collect: one QR per grant.
    assert small.content.decode().count("data-grant=") == 1
    assert large.content.decode().count("data-grant=") == 5


def test_me_does_not_grow_with_waiting_parcels_and_history(world, resident_client):
    take_in(world, 1)
    _small, large = assert_flat(lambda: resident_client.get("/me/"), lambda: take_in(world, 19))
    assert large.context["waiting"] and len(large.context["waiting"]) == 20


def test_proxy_list_does_not_grow_with_grants(world, resident_client):
    def grant_some(n: int) -> None:
        for _ in range(n):
            PickupProxy.objects.create(
                community=world.community,
                resident=world.residents[0],
                phone="13700001234",
                valid_until=clock.now() + dt.timedelta(days=1),
            )

    grant_some(1)
    _small, large = assert_flat(lambda: resident_client.get("/me/proxies/"), lambda: grant_some(19))
    assert len(large.context["grants"]) == 20


def _cases(world, n: int) -> None:  # type: ignore[no-untyped-def]
    for parcel in take_in(world, n):
        cases.open_case(world.residents[0], parcel, CaseKind.DAMAGED, "crushed")


def test_my_reports_do_not_grow_with_cases(world, resident_client):
    _cases(world, 1)
    assert_flat(lambda: resident_client.get("/me/reports/"), lambda: _cases(world, 19))


def test_the_case_desk_does_not_grow_with_cases(world, resident_client, client):
    admin = get_user_model().objects.create_user("desk-admin")
    Membership.objects.create(user=admin, community=world.community, role=StaffRole.ADMIN)
    client.force_login(admin)
    _cases(world, 1)
    _small, large = assert_flat(lambda: client.get("/cases/"), lambda: _cases(world, 19))
    assert len(large.context["rows"]) == 20


def test_me_reads_the_signed_in_phone_once(world, resident_client):
    take_in(world, 3)
    _grants_to_me(world, 2)
    resident_client.get("/me/")  # warm-up
    with CaptureQueriesContext(connection) as ctx:
        assert resident_client.get("/me/").status_code == 200
    reads = [q["sql"] for q in ctx if 'FROM "residents_phoneaccount"' in q["sql"]]
    assert len(reads) == 1, reads
