"""The counter's pickup lookups through the API: same parcels, same groups, same masking as the
counter's pickup screen; only the point's clerks and admins may ask."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jianjian.communities.models import PickupProxy
from jianjian.parcels import services
from jianjian.residents.pickup import make_proxy_token, resident_token
from tests.factories import tracking
from tests.web.conftest import make_clerk

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf(world):
    """Two parcels for 张三 (3-2-501) and one for 李四 (3-2-502): both phones end in 5678."""

    def take(resident):  # type: ignore[no-untyped-def]
        return services.intake(
            world.counter, tracking(), actor=world.clerk, phone=resident.phone
        ).parcel

    zhang, li = world.residents[0], world.residents[1]
    return {"zhang": [take(zhang), take(zhang)], "li": [take(li)]}


def _counter_groups(world, q: str) -> list[tuple[str, set[int]]]:
    """What the counter's pickup screen shows for ``q``: each group's label and parcel ids."""
    client = Client()
    client.force_login(make_clerk(world))
    page = client.post(
        reverse("counter:lookup", args=[world.counter.pk]), {"q": q}, HTTP_HX_REQUEST="true"
    ).content.decode()
    forms = page.split("<form")[1:]
    return [
        (
            re.search(r'<p class="headline">([^<]*)</p>', form).group(1),
            {int(i) for i in re.findall(r'name="parcel" value="(\d+)"', form)},
        )
        for form in forms
    ]


def _api_groups(body) -> list[tuple[str, set[int]]]:
    return [(g["recipient"], {p["id"] for p in g["parcels"]}) for g in body["groups"]]


def _get(api_client, world, **params):
    return api_client.get(f"/points/{world.counter.pk}/lookup", **params)


@pytest.mark.parametrize("who", ["clerk", "admin"])
def test_by_pickup_code_the_api_finds_what_the_counter_finds(api, world, shelf, who):
    code = shelf["zhang"][0].pickup_code
    answer = _get(getattr(api, who), world, code=code)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["method"] == "code" and body["single"] is True
    assert _api_groups(body) == _counter_groups(world, code)
    assert {p["id"] for p in body["groups"][0]["parcels"]} == {p.pk for p in shelf["zhang"]}


def test_a_shared_phone_tail_gives_both_residents_as_the_counter_does(api, world, shelf):
    body = _get(api.clerk, world, tail="5678").json()
    assert body["single"] is False and len(body["groups"]) == 2
    assert sorted(_api_groups(body)) == sorted(_counter_groups(world, "5678"))


def test_a_flat_narrows_a_phone_tail_to_one_resident(api, world, shelf):
    body = _get(api.clerk, world, tail="5678", flat="３-２-５０２").json()
    assert body["single"] is True
    assert [p["id"] for p in body["groups"][0]["parcels"]] == [shelf["li"][0].pk]
    nobody = _get(api.clerk, world, tail="5678", flat="3-2-601")
    assert nobody.status_code == 404 and "3-2-601" in nobody.json()["message"]


def test_the_recipient_is_masked_as_at_the_counter(api, world, shelf):
    body = _get(api.clerk, world, tail="5678", flat="3-2-501").json()
    group = body["groups"][0]
    assert group["recipient"] == "3-2-501 张* 138****5678"
    text = str(body)
    assert "13812345678" not in text and "张三" not in text
    parcel = group["parcels"][0]
    assert parcel["pickup_code"] and parcel["slot"] and parcel["phone"] == "138****5678"


def test_a_residents_qr_finds_their_parcels(api, world, shelf):
    qr = resident_token(world.residents[0])
    body = _get(api.clerk, world, qr=qr).json()
    assert body["method"] == "qr"
    assert _api_groups(body) == _counter_groups(world, qr)
    assert {p["id"] for p in body["groups"][0]["parcels"]} == {p.pk for p in shelf["zhang"]}


def test_a_proxys_qr_names_the_proxy_and_only_what_the_grant_covers(api, world, shelf):
    proxy = PickupProxy.objects.create(
        community=world.community,
        resident=world.residents[0],
        phone="13600004321",
        name="王阿姨",
        parcel=shelf["zhang"][1],
        valid_until=timezone.now() + dt.timedelta(days=1),
    )
    qr = make_proxy_token(proxy)
    body = _get(api.clerk, world, qr=qr).json()
    (group,) = body["groups"]
    assert group["proxy"] == {"id": proxy.pk, "name": "王阿姨", "phone_tail": "4321"}
    assert [p["id"] for p in group["parcels"]] == [shelf["zhang"][1].pk]
    assert _api_groups(body) == _counter_groups(world, qr)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"code": "A1-1-001", "tail": "5678"},
        {"flat": "3-2-501"},
        {"tail": "567"},
        {"tail": "5678", "flat": "楼下"},
        {"code": "13812345678"},
        {"qr": "hello"},
        {"qr": "JJ1:forged"},
    ],
)
def test_bad_questions_get_a_clear_error(api, world, shelf, params):
    answer = _get(api.clerk, world, **params)
    assert answer.status_code == 422
    assert answer.json()["message"]


def test_an_unknown_code_is_an_error_in_the_callers_language(api, world, shelf):
    answer = _get(api.clerk, world, code="Z9-9-999")
    assert answer.status_code == 422 and "Z9-9-999" in answer.json()["message"]


@pytest.mark.parametrize("who", ["sf", "integration", "resident"])
def test_only_the_points_clerks_and_admins_may_look_up(api, world, shelf, who):
    assert _get(getattr(api, who), world, tail="5678").status_code == 404


def test_a_token_without_a_role_is_refused(api, world, shelf):
    assert _get(api.no_role, world, tail="5678").status_code == 403


def test_a_clerk_of_another_point_sees_nothing_here(api, world, shelf):
    answer = api.clerk.get(f"/points/{world.counter2.pk}/lookup", tail="5678")
    assert answer.status_code == 404


def test_anonymous_callers_are_told_to_authenticate(api, world, shelf):
    assert _get(api.anonymous, world, tail="5678").status_code == 401
