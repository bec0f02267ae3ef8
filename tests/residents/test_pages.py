"""Every resident and case-desk page as each role, including the ones they must not reach.

What one may not see answers 404 (never 403), so ids cannot be probed.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from jianjian.communities.models import Membership, PickupProxy, StaffRole
from jianjian.communities.qr import read_token
from jianjian.parcels import services
from jianjian.parcels.models import Method
from jianjian.residents import cases
from jianjian.residents.models import CaseKind
from tests.factories import make_world
from tests.residents.conftest import arrive, sign_in

RESIDENT_PAGES = [
    "/me/",
    "/me/proxies/",
    "/me/preferences/",
    "/me/reports/",
]


@pytest.mark.parametrize("url", [*RESIDENT_PAGES, "/me/parcels/1/", "/me/reports/1/"])
def test_anonymous_is_sent_to_sign_in(db, url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/me/signin/?next=")


@pytest.mark.parametrize("url", ["/cases/", "/cases/1/"])
def test_anonymous_staff_pages_go_to_the_staff_login(db, url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_my_parcels_shows_point_hours_code_deadline_and_a_qr_of_mine(world, resident_client):
    parcel = arrive(world)
    page = resident_client.get("/me/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert parcel.pickup_code in page
    assert "我爱我家" in page and "09:00–20:00" in page
    # The counter's closing time (20:00) on the hold period's last day.
    last_day = timezone.localtime(parcel.intake_at).date() + dt.timedelta(days=7)
    assert f"{last_day:%m-%d} 20:00" in page
    assert "<svg" in page
    # The QR the page shows is the resident's token, which the counter's reader accepts.
    from jianjian.residents import pickup

    token = pickup.resident_token(world.residents[0])
    assert read_token(token, world.community.pk) == world.residents[0].pk


def test_the_counter_accepts_the_qr_from_my_page(world, resident_client):
    """The counter's lookup (issue 3) finds my parcel from the QR payload my page encodes."""
    from jianjian.parcels.queries import lookup_for_pickup
    from jianjian.residents import pickup

    parcel = arrive(world)
    token = pickup.resident_token(world.residents[0])
    lookup = lookup_for_pickup(world.counter, token, timezone.now())
    assert [p.pk for g in lookup.groups for p in g.parcels] == [parcel.pk]


def test_resident_a_cannot_see_resident_b_parcel_or_report(world, resident_client):
    theirs = arrive(world, resident_index=1)
    case = cases.open_case(world.residents[1], theirs, CaseKind.DAMAGED, "box crushed")
    assert resident_client.get(f"/me/parcels/{theirs.pk}/").status_code == 404
    assert resident_client.get(f"/me/parcels/{theirs.pk}/report/").status_code == 404
    assert resident_client.get(f"/me/reports/{case.pk}/").status_code == 404
    assert theirs.tracking_number[-4:] not in resident_client.get("/me/").content.decode()
    # Nor the other resident's QR.
    assert resident_client.get(f"/me/qr/r/{world.residents[1].pk}/").status_code == 404
    assert resident_client.get("/me/qr/x/1/").status_code == 404


def test_parcel_history_has_the_custody_trail(world, resident_client):
    parcel = arrive(world)
    services.hand_over(world.counter, [parcel], actor=world.clerk, method=Method.CODE)
    home = resident_client.get("/me/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Collected and returned" in home
    page = resident_client.get(f"/me/parcels/{parcel.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert "taken in" in text and "handed over" in text
    assert parcel.tracking_number in text


def test_staff_user_without_resident_rows_sees_no_parcels(world):
    client = Client()
    client.force_login(world.clerk.user)
    parcel = arrive(world)
    assert client.get(f"/me/parcels/{parcel.pk}/").status_code == 404
    assert parcel.pickup_code not in client.get("/me/").content.decode()


def _admin(world, role: str = StaffRole.ADMIN):  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user(f"{role}-{world.community.slug}", password="x" * 12)
    Membership.objects.create(user=user, community=world.community, role=role)
    client = Client()
    client.force_login(user)
    return user, client


def test_case_desk_is_for_admins_of_that_community_only(world):
    parcel = arrive(world)
    case = cases.open_case(world.residents[0], parcel, CaseKind.NOT_RECEIVED, "not in my box")
    _, admin = _admin(world)
    assert admin.get("/cases/").status_code == 200
    assert admin.get(f"/cases/{case.pk}/").status_code == 200
    _, committee = _admin(world, StaffRole.COMMITTEE)
    assert committee.get("/cases/").status_code == 404
    clerk = Client()
    clerk.force_login(world.clerk.user)
    assert clerk.get(f"/cases/{case.pk}/").status_code == 404
    other = make_world()
    _, other_admin = _admin(other)
    assert other_admin.get("/cases/").status_code == 200
    assert other_admin.get(f"/cases/{case.pk}/").status_code == 404
    assert f"#{case.pk}<" not in other_admin.get("/cases/").content.decode()
    assert other_admin.post(f"/cases/{case.pk}/", {"text": "hi"}).status_code == 404


def test_resident_cannot_reach_the_case_desk(world, resident_client):
    parcel = arrive(world)
    case = cases.open_case(world.residents[0], parcel, CaseKind.DAMAGED, "wet")
    assert resident_client.get("/cases/").status_code == 404
    assert resident_client.get(f"/cases/{case.pk}/").status_code == 404


def test_proxy_sees_only_what_they_may_collect_and_nothing_after_revocation(world):
    mine = arrive(world)
    other = arrive(world)
    PickupProxy.objects.create(
        community=world.community,
        resident=world.residents[0],
        phone="13700001234",
        parcel=mine,
        valid_until=timezone.now() + dt.timedelta(days=2),
    )
    proxy = Client()
    sign_in(proxy, "13700001234")
    page = proxy.get("/me/").content.decode()
    assert mine.pickup_code in page
    assert other.pickup_code not in page
    assert "<svg" in page
    # A proxy is no resident: no detail pages, no reports, no grants of their own.
    assert proxy.get(f"/me/parcels/{mine.pk}/").status_code == 404
    assert proxy.get(f"/me/parcels/{mine.pk}/report/").status_code == 404
    # The resident revokes: the proxy sees nothing more, and their QR link is gone.
    owner = Client()
    sign_in(owner, world.residents[0].phone)
    grant = PickupProxy.objects.get()
    assert proxy.get(f"/me/qr/p/{grant.pk}/").status_code == 200
    assert owner.post(f"/me/proxies/{grant.pk}/revoke/").status_code == 302
    page = proxy.get("/me/").content.decode()
    assert mine.pickup_code not in page
    assert proxy.get(f"/me/qr/p/{grant.pk}/").status_code == 404


def test_a_resident_cannot_revoke_someone_elses_grant(world, resident_client):
    parcel = arrive(world, resident_index=1)
    grant = PickupProxy.objects.create(
        community=world.community,
        resident=world.residents[1],
        phone="13700001234",
        parcel=parcel,
        valid_until=timezone.now() + dt.timedelta(days=2),
    )
    assert resident_client.post(f"/me/proxies/{grant.pk}/revoke/").status_code == 404
    grant.refresh_from_db()
    assert grant.revoked_at is None


def test_expired_grant_shows_nothing(world):
    parcel = arrive(world)
    PickupProxy.objects.create(
        community=world.community,
        resident=world.residents[0],
        phone="13700001234",
        valid_until=timezone.now() + dt.timedelta(minutes=30),
    )
    proxy = Client()
    sign_in(proxy, "13700001234")
    assert parcel.pickup_code in proxy.get("/me/").content.decode()
    import time_machine

    with time_machine.travel(timezone.now() + dt.timedelta(hours=1)):
        assert parcel.pickup_code not in proxy.get("/me/").content.decode()


def test_preferences_apply_to_every_flat_of_the_phone(world, resident_client):
    """One phone, a flat here and a flat in another community: the channels and quiet hours
    chosen once hold for the parcels of both; the preferred point only where it is a point."""
    from jianjian.notify.models import ResidentPreference

    first = world.residents[0]
    elsewhere = make_world().residents[0]
    assert elsewhere.phone == first.phone and elsewhere.community != first.community
    response = resident_client.post(
        "/me/preferences/",
        {
            "channels": ["sms", "email"],
            "email": "wang@example.org",
            "language": "en",
            "preferred_point": world.counter2.pk,
            "quiet_start": "22:00",
            "quiet_end": "07:30",
        },
    )
    assert response.status_code == 302
    for record in (first, elsewhere):
        pref = ResidentPreference.objects.get(resident=record)
        assert pref.channel_list() == ["sms", "email"] and pref.email == "wang@example.org"
        record.refresh_from_db()
        assert (record.quiet_start, record.quiet_end) == (dt.time(22, 0), dt.time(7, 30))
        assert record.locker_consent is False
    assert first.preferred_point_id == world.counter2.pk
    assert elsewhere.preferred_point_id is None


def test_preferences_save_and_bad_input_writes_nothing(world, resident_client):
    resident = world.residents[0]
    response = resident_client.post(
        "/me/preferences/",
        {
            "channels": ["sms"],
            "language": "zh-hans",
            "preferred_point": world.counter2.pk,
            "locker_consent": "",
            "quiet_start": "22:00",
            "quiet_end": "07:30",
        },
    )
    assert response.status_code == 302
    resident.refresh_from_db()
    assert resident.preferred_point_id == world.counter2.pk
    assert resident.locker_consent is False
    assert resident.quiet_start == dt.time(22, 0)
    other = make_world()
    bad = resident_client.post(
        "/me/preferences/",
        {
            "channels": ["sms"],
            "language": "zh-hans",
            "preferred_point": other.counter.pk,
            "quiet_start": "23:00",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert bad.status_code == 200
    text = bad.content.decode()
    assert "Select a valid choice" in text
    assert "Give both times, or neither." in text
    resident.refresh_from_db()
    assert resident.preferred_point_id == world.counter2.pk
    assert resident.quiet_start == dt.time(22, 0)
