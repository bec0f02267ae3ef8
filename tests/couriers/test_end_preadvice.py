"""The courier's own page ends a pre-advice: each announced parcel of the courier's carrier can be
recorded delivered to the door, left with a named neighbour, or cancelled — after a confirmation
form, through the lifecycle verbs. Another carrier's parcel is not there (404); one already taken
in is refused with a message; bad input writes nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from jianjian.notify.models import Notification
from jianjian.parcels import services
from jianjian.parcels.fold import check
from jianjian.parcels.matching import RecipientInfo
from jianjian.parcels.models import CustodyEvent, EventKind, Parcel, ParcelState
from tests.factories import World, tracking

pytestmark = pytest.mark.django_db


def _client(world: World, language: str = "en") -> Client:
    user = get_user_model().objects.create_user("sf-ender")
    world.sf_courier.user = user
    world.sf_courier.save()
    world.sf_courier.communities.add(world.community)
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def _announced(world: World, carrier: str = "sf") -> Parcel:
    parcel, _created = services.announce(
        world.community,
        tracking(carrier),
        actor=world.clerk,
        carrier_code=carrier,
        recipient=RecipientInfo(resident=world.residents[0]),
        courier=world.sf_courier if carrier == "sf" else world.zto_courier,
    )
    return parcel


def _url(parcel: Parcel) -> str:
    return f"/courier/parcel/{parcel.pk}/end/"


def test_the_drop_plan_links_each_announced_parcel_to_its_ending_form(world):
    client = _client(world)
    parcel = _announced(world)
    from jianjian.couriers.allocation import reallocate

    reallocate(world.community)
    home = client.get("/courier/").content.decode()
    assert _url(parcel) in home
    form = client.get(_url(parcel))
    assert form.status_code == 200
    text = form.content.decode()
    assert parcel.tracking_number in text and "csrfmiddlewaretoken" in text
    assert "Left with a neighbour" in text


@pytest.mark.parametrize(
    ("outcome", "holder", "state", "collected_by"),
    [
        ("door", "", ParcelState.ELSEWHERE, "at the door"),
        ("neighbour", "王五 3-2-601", ParcelState.ELSEWHERE, "王五 3-2-601"),
        ("cancel", "", ParcelState.CANCELLED, ""),
    ],
)
def test_the_courier_ends_their_own_parcel(world, outcome, holder, state, collected_by):
    client = _client(world)
    parcel = _announced(world)
    body = {"outcome": outcome, "holder": holder, "reason": "寄件人撤回"}
    response = client.post(_url(parcel), body)
    assert response.status_code == 302 and response["Location"] == "/courier/"
    parcel.refresh_from_db()
    assert parcel.state == state and parcel.collected_by == collected_by
    event = CustodyEvent.objects.get(parcel=parcel, seq=2)
    assert event.actor_label == "sf-ender"
    if outcome == "cancel":
        assert event.data == {"reason": "寄件人撤回"}
    assert Notification.objects.filter(parcel=parcel).count() == 1  # the resident is told
    page = client.get("/courier/").content.decode()
    assert parcel.tracking_number in page  # named in the confirmation message
    assert check(world.community.pk).ok


def test_the_page_speaks_chinese_by_default(world):
    client = _client(world, language="zh-hans")
    parcel = _announced(world)
    text = client.get(_url(parcel)).content.decode()
    assert "已交邻居代收" in text and "结束预报" in text
    client.post(_url(parcel), {"outcome": "door"}, follow=False)
    followed = client.get("/courier/").content.decode()
    assert f"已记录 {parcel.tracking_number} 送到家门口" in followed


def test_another_carriers_parcel_is_not_found(world):
    client = _client(world)
    theirs = _announced(world, "zto")
    assert client.get(_url(theirs)).status_code == 404
    assert client.post(_url(theirs), {"outcome": "door"}).status_code == 404
    assert Parcel.objects.get(pk=theirs.pk).state == ParcelState.ANNOUNCED
    assert client.get("/courier/parcel/999999/end/").status_code == 404


def test_a_parcel_already_taken_in_is_refused_with_a_message(world):
    client = _client(world)
    parcel = _announced(world)
    services.intake(world.counter, parcel.tracking_number, actor=world.clerk)
    page = client.get(_url(parcel))
    assert page.status_code == 409
    assert "has already been taken in at 我爱我家" in page.content.decode()
    refused = client.post(_url(parcel), {"outcome": "door"})
    assert refused.status_code == 409 and "nothing to end" in refused.content.decode()
    parcel.refresh_from_db()
    assert parcel.state == ParcelState.AT_POINT
    assert not CustodyEvent.objects.filter(parcel=parcel, kind=EventKind.ELSEWHERE).exists()


def test_picked_up_parcels_are_refused_too(world):
    client = _client(world)
    parcel = _announced(world)
    services.intake(world.counter, parcel.tracking_number, actor=world.clerk)
    services.hand_over(world.counter, [Parcel.objects.get(pk=parcel.pk)], actor=world.clerk)
    refused = client.post(_url(parcel), {"outcome": "cancel"})
    assert refused.status_code == 409
    assert "no longer announced (picked up)" in refused.content.decode()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"outcome": "neighbour", "holder": "  "}, "Name the neighbour who took the parcel."),
        ({}, "Choose what happened to the parcel."),
        ({"outcome": "roof"}, "Select a valid choice."),
    ],
)
def test_bad_input_writes_nothing_and_says_why(world, body, message):
    client = _client(world)
    parcel = _announced(world)
    response = client.post(_url(parcel), body)
    assert response.status_code == 422
    assert message in response.content.decode()
    parcel.refresh_from_db()
    assert parcel.state == ParcelState.ANNOUNCED and parcel.event_count == 1
    assert not Notification.objects.filter(parcel=parcel).exists()


def test_a_signed_in_non_courier_gets_404(world):
    client = Client()
    client.force_login(get_user_model().objects.create_user("someone"))
    assert client.get(_url(_announced(world))).status_code == 404


def test_the_form_posts_only_with_csrf(world):
    client = _client(world)
    client.handler.enforce_csrf_checks = True
    parcel = _announced(world)
    assert client.post(_url(parcel), {"outcome": "door"}).status_code == 403
    assert Parcel.objects.get(pk=parcel.pk).state == ParcelState.ANNOUNCED
