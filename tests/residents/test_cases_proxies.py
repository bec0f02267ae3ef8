"""Complaint cases and proxy grants: the services behind the pages, and what they notify."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from jianjian.communities.models import Membership, PickupProxy, StaffRole
from jianjian.communities.qr import QRExpired, QRInvalid, read_token
from jianjian.notify.models import Notification
from jianjian.parcels.errors import InvalidInput
from jianjian.residents import cases, pickup, proxies
from jianjian.residents.models import Case, CaseKind, CaseState
from tests.factories import make_world
from tests.residents.conftest import arrive


def test_report_answer_close_and_the_resident_is_told(world, resident_client):
    parcel = arrive(world)
    response = resident_client.post(
        f"/me/parcels/{parcel.pk}/report/",
        {"kind": CaseKind.NOT_RECEIVED, "description": "The app says collected, I did not."},
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.state == CaseState.OPEN and case.community_id == world.community.pk
    admin = get_user_model().objects.create_user("office", password="x" * 12)
    Membership.objects.create(user=admin, community=world.community, role=StaffRole.ADMIN)
    desk = Client()
    desk.force_login(admin)
    page = desk.get(f"/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "taken in" in page  # the custody trail is on the case
    assert "+8613812345678" in page  # the admin may call back
    desk.post(f"/cases/{case.pk}/", {"text": "We are checking the camera.", "close": ""})
    case.refresh_from_db()
    assert case.state == CaseState.ANSWERED and case.answered_at is not None
    desk.post(f"/cases/{case.pk}/", {"text": "Found at shelf 2; please collect.", "close": "on"})
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and case.closed_at is not None
    told = Notification.objects.filter(cause="case_answered", address="+8613812345678")
    assert told.count() == 2
    assert "Found at shelf 2" in told.latest("pk").body
    mine = resident_client.get(f"/me/reports/{case.pk}/").content.decode()
    assert "Found at shelf 2; please collect." in mine
    # A closed case takes no more answers, and says so.
    again = desk.post(f"/cases/{case.pk}/", {"text": "more"}, HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 200
    assert Notification.objects.filter(cause="case_answered").count() == 2


def test_double_report_adds_to_the_open_case(world):
    parcel = arrive(world)
    first = cases.open_case(world.residents[0], parcel, CaseKind.DAMAGED, "crushed")
    second = cases.open_case(world.residents[0], parcel, CaseKind.DAMAGED, "crushed")
    third = cases.open_case(world.residents[0], parcel, CaseKind.DAMAGED, "and wet")
    assert first.pk == second.pk == third.pk
    assert [n.text for n in first.notes.all()] == ["and wet"]


@pytest.mark.parametrize("text", ["", "   ", "x" * 2001])
def test_empty_or_long_report_is_refused(world, text):
    parcel = arrive(world)
    with pytest.raises(InvalidInput):
        cases.open_case(world.residents[0], parcel, CaseKind.DAMAGED, text)
    assert not Case.objects.exists()


def test_cannot_report_on_a_parcel_of_someone_else(world):
    parcel = arrive(world, resident_index=1)
    with pytest.raises(InvalidInput):
        cases.open_case(world.residents[0], parcel, CaseKind.DAMAGED, "not mine")


def test_unanswered_case_is_overdue_after_a_day_and_highlighted(world):
    parcel = arrive(world)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        case = cases.open_case(world.residents[0], parcel, CaseKind.WRONG_PARCEL, "not my box")
    admin = get_user_model().objects.create_user("office", password="x" * 12)
    Membership.objects.create(user=admin, community=world.community, role=StaffRole.ADMIN)
    desk = Client()
    desk.force_login(admin)
    with time_machine.travel(start + dt.timedelta(hours=2)):
        assert 'class="overdue"' not in desk.get("/cases/").content.decode()
    with time_machine.travel(start + dt.timedelta(hours=25)):
        assert cases.is_overdue(case, timezone.now())
        assert 'class="overdue"' in desk.get("/cases/").content.decode()
        cases.answer_case(case, admin, "Looking into it", close=False)
        case.refresh_from_db()
        assert not cases.is_overdue(case, timezone.now())


def test_grant_for_one_parcel_and_the_proxy_is_told(world, resident_client):
    parcel = arrive(world)
    response = resident_client.post(
        "/me/proxies/", {"phone": "137 0000 1234", "name": "妈妈", "parcel": parcel.pk}
    )
    assert response.status_code == 302
    grant = PickupProxy.objects.get()
    assert grant.parcel_id == parcel.pk and grant.phone == "+8613700001234"
    message = Notification.objects.get(cause="proxy_granted")
    assert message.address == "+8613700001234"
    assert "张*" in message.body and "张三" not in message.body


def test_grant_for_a_period_needs_days_and_a_valid_other_phone(world, resident_client):
    bad = resident_client.post("/me/proxies/", {"phone": "13700001234"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "say for how many days" in bad.content.decode()
    own = resident_client.post(
        "/me/proxies/", {"phone": "13812345678", "days": 3}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "That is your own number." in own.content.decode()
    junk = resident_client.post(
        "/me/proxies/", {"phone": "12", "days": 3}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "not a valid phone number" in junk.content.decode()
    assert not PickupProxy.objects.exists()
    ok = resident_client.post("/me/proxies/", {"phone": "13700001234", "days": 3})
    assert ok.status_code == 302
    grant = PickupProxy.objects.get()
    assert grant.parcel_id is None
    assert (
        dt.timedelta(days=2, hours=23) < grant.valid_until - timezone.now() <= dt.timedelta(days=3)
    )


def test_proxy_qr_is_refused_once_revoked_expired_or_in_another_community(world):
    parcel = arrive(world)
    grant = proxies.grant(world.residents[0], phone="13700001234", parcel=parcel)
    token = pickup.make_proxy_token(grant)
    assert pickup.read_proxy_token(token, world.community.pk).pk == grant.pk
    other = make_world()
    with pytest.raises(QRInvalid):
        pickup.read_proxy_token(token, other.community.pk)
    # A proxy's QR never passes for the resident's own code.
    with pytest.raises(QRInvalid):
        read_token(token, world.community.pk)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)), pytest.raises(QRExpired):
        pickup.read_proxy_token(token, world.community.pk)
    proxies.revoke(grant)
    with pytest.raises(QRInvalid):
        pickup.read_proxy_token(token, world.community.pk)


def test_resident_qr_expires_and_is_bound_to_its_community(world):
    token = pickup.resident_token(world.residents[0])
    other = make_world()
    with pytest.raises(QRInvalid):
        read_token(token, other.community.pk)
    with pytest.raises(QRInvalid):
        read_token(token[:-2] + "xx", world.community.pk)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)), pytest.raises(QRExpired):
        read_token(token, world.community.pk)
