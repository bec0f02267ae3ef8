"""The courier's pages: drop plan, overflow, receipts with wrong-point warnings, returns, upload."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from jianjian import clock
from jianjian.couriers.manifests import import_rows, read_json
from jianjian.parcels import services
from jianjian.parcels.models import Parcel
from tests.factories import tracking

pytestmark = pytest.mark.django_db


@pytest.fixture
def courier_client(world) -> Client:
    user = get_user_model().objects.create_user("sf-page")
    world.sf_courier.user = user
    world.sf_courier.save()
    world.sf_courier.communities.add(world.community)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")  # the assertions read the English text
    client.force_login(user)
    return client


def announce(world, *rows: dict) -> None:
    import_rows(
        world.community,
        read_json(rows),
        actor=services.Actor.system("t"),
        source="json",
        courier=world.sf_courier,
    )


def test_home_shows_the_plan_overflow_receipts_and_returns(world, courier_client, time_machine):
    world.counter.daily_capacity = 2
    world.counter.save()
    world.counter2.daily_capacity = 0
    world.counter2.save()
    world.locker.daily_capacity = 0
    world.locker.save()
    old = services.intake(world.counter, tracking(), actor=world.clerk, phone="13812345678").parcel
    time_machine.move_to(clock.now() + dt.timedelta(days=8))
    numbers = [tracking() for _ in range(3)]
    world.residents[0].preferred_point = world.counter2
    world.residents[0].save()
    announce(world, *({"tracking_number": n, "phone": "13912345678"} for n in numbers))
    services.intake(world.counter, numbers[0], actor=world.clerk)  # as planned
    html = courier_client.get("/courier/").content.decode()
    assert numbers[1] in html  # planned at A
    assert numbers[2] in html and "every point is full today" in html  # overflow, with why
    assert old.tracking_number in html  # a dead parcel waiting to go back
    assert "as planned" in html


def test_receipts_flag_a_parcel_brought_to_the_wrong_point(world, courier_client):
    number = tracking()
    world.residents[0].preferred_point = world.counter2
    world.residents[0].save()
    announce(world, {"tracking_number": number, "phone": "13812345678"})
    services.intake(world.counter, number, actor=world.clerk)
    html = courier_client.get("/courier/").content.decode()
    assert "wrong point" in html


def test_other_users_get_404(world, client):
    user = get_user_model().objects.create_user("nobody")
    client.force_login(user)
    assert client.get("/courier/").status_code == 404
    assert client.get(f"/courier/plan/{world.community.slug}.csv").status_code == 404


def test_upload_with_a_bad_row_imports_nothing_then_the_good_rows_on_request(world, courier_client):
    data = f"运单号,手机号\n{tracking()},13812345678\n{tracking()},123\n".encode()
    post = {"community": world.community.pk}
    response = courier_client.post(
        "/courier/manifest/", {**post, "file": SimpleUploadedFile("m.csv", data)}
    )
    assert response.status_code == 422
    assert "nothing was imported" in response.content.decode()
    assert not Parcel.objects.exists()
    response = courier_client.post(
        "/courier/manifest/",
        {**post, "file": SimpleUploadedFile("m.csv", data), "import_good_rows": "on"},
    )
    assert response.status_code == 200 and Parcel.objects.count() == 1


def test_upload_of_garbage_says_why(world, courier_client):
    response = courier_client.post(
        "/courier/manifest/",
        {"community": world.community.pk, "file": SimpleUploadedFile("m.xlsx", b"PK\x03\x04junk")},
    )
    assert response.status_code == 422 and "Excel" in response.content.decode()


def test_upload_without_a_file_says_what_is_missing(world, courier_client):
    for post in ({}, {"community": world.community.pk}):
        response = courier_client.post("/courier/manifest/", post)
        assert response.status_code == 422
        assert 'class="errorlist' in response.content.decode()
    assert not Parcel.objects.exists()


def test_plan_csv_escapes_formula_cells(world, courier_client):
    announce(
        world, {"tracking_number": tracking(), "phone": "13812345678", "name": "=cmd|' /C calc'!A0"}
    )
    response = courier_client.get(f"/courier/plan/{world.community.slug}.csv")
    text = response.content.decode("utf-8-sig")
    assert "=cmd" not in text  # names are masked, as the API masks them
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][2] == "'=***"  # and what is left is shown as text by any spreadsheet
