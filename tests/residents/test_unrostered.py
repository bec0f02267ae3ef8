"""A phone with parcels but no roster row: it signs in with a code and sees exactly its parcels,
asks to be linked to a flat, and the community admin approves or refuses in the console."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from jianjian.communities.models import Membership, Resident, StaffRole
from jianjian.console.models import AuditEntry
from jianjian.notify.models import Notification
from jianjian.parcels import services
from jianjian.parcels.errors import ParcelError
from jianjian.parcels.queries import lookup_for_pickup
from jianjian.residents.models import LinkRequest, LinkState, PhoneAccount
from jianjian.residents.views import SESSION_PHONE
from tests.factories import World, make_world, tracking
from tests.residents.conftest import sign_in

pytestmark = pytest.mark.django_db

STRANGER = "+8615000001234"  # not on any roster
OTHER_STRANGER = "+8615000005678"


def _parcel_for(world: World, phone: str, point: Any = None) -> Any:
    return services.intake(
        point or world.counter, tracking(), actor=world.clerk, phone=phone
    ).parcel


def _signed_in(phone: str) -> Client:
    client = Client()
    sign_in(client, phone)
    return client


def _staff(world: World, role: str, name: str) -> Any:
    user = get_user_model().objects.create_user(name, password="pw-for-tests")
    Membership.objects.create(user=user, community=world.community, role=role)
    client = Client()
    client.force_login(user)
    return user, client


def test_a_phone_with_parcels_signs_in_and_sees_exactly_those(world):
    mine = [_parcel_for(world, STRANGER), _parcel_for(world, STRANGER, world.counter2)]
    not_mine = _parcel_for(world, OTHER_STRANGER)
    roster = _parcel_for(world, world.residents[0].phone)
    client = _signed_in(STRANGER)
    page = client.get(reverse("residents:home")).content.decode()
    shown = {int(pk) for pk in re.findall(r'data-parcel="(\d+)"', page)}
    assert shown == {p.pk for p in mine}
    for parcel in mine:
        assert parcel.pickup_code in page
    assert not_mine.pickup_code not in page and roster.pickup_code not in page
    assert client.get(reverse("residents:parcel", args=[mine[0].pk])).status_code == 200
    for other in (not_mine, roster):
        assert client.get(reverse("residents:parcel", args=[other.pk])).status_code == 404


def test_its_pickup_qr_hands_over_its_parcels_at_the_counter(world):
    mine = _parcel_for(world, STRANGER)
    _parcel_for(world, OTHER_STRANGER)
    page = _signed_in(STRANGER).get(reverse("residents:home")).content.decode()
    (token,) = re.findall(r'data-qr="(JJ1H:[^"]+)"', page)
    found = lookup_for_pickup(world.counter, token, services.clock.now())
    assert [p.pk for p in found.parcels] == [mine.pk]
    # A token of this community means nothing at another community's counter.
    elsewhere = make_world()
    with pytest.raises(ParcelError):
        lookup_for_pickup(elsewhere.counter, token, services.clock.now())


def test_a_phone_without_parcels_gets_the_same_answer_and_no_code(client, world):
    unknown = client.post("/me/signin/", {"phone": "15000009999"}, REMOTE_ADDR="10.0.0.2")
    _parcel_for(world, STRANGER)
    known = Client().post("/me/signin/", {"phone": STRANGER}, REMOTE_ADDR="10.0.0.3")
    assert unknown.status_code == known.status_code == 302
    assert unknown["Location"] == known["Location"]
    assert not Notification.objects.filter(address="+8615000009999").exists()
    assert Notification.objects.filter(address=STRANGER, cause="signin_code").count() == 1


def test_the_sign_in_throttle_holds_for_a_phone_without_a_roster_row(client, world):
    _parcel_for(world, STRANGER)
    assert client.post("/me/signin/", {"phone": STRANGER}).status_code == 302
    again = client.post("/me/signin/", {"phone": STRANGER})
    assert again.status_code == 200  # the form again, with "a code was just sent"
    assert Notification.objects.filter(address=STRANGER, cause="signin_code").count() == 1


def test_a_guessed_code_for_a_phone_without_parcels_never_signs_in(client, world):
    client.post("/me/signin/", {"phone": "15000009999"})
    assert client.session[SESSION_PHONE] == "+8615000009999"
    for guess in ("000000", "123456"):
        response = client.post("/me/signin/code/", {"code": guess})
        assert response.status_code == 200
    assert "_auth_user_id" not in client.session


# --- asking to be linked to a flat ---------------------------------------------------------


def _ask(client: Client, world: World, flat: str = "3-2-502", name: str = "赵六") -> Any:
    return client.post(
        reverse("residents:link"), {"community": world.community.pk, "flat": flat, "name": name}
    )


def test_asking_twice_or_for_a_flat_that_does_not_exist_is_refused_clearly(world):
    _parcel_for(world, STRANGER)
    client = _signed_in(STRANGER)
    bad = _ask(client, world, flat="9-9-999")
    assert bad.status_code == 200 and "9-9-999" in bad.content.decode()
    blank = _ask(client, world, name="   ")
    assert blank.status_code == 200
    assert not LinkRequest.objects.exists()
    assert _ask(client, world).status_code == 302
    again = _ask(client, world, flat="3-2-601")
    assert again.status_code == 200
    assert LinkRequest.objects.get().flat_code == "3-2-502"


def test_a_phone_cannot_ask_in_a_community_where_it_has_no_parcels(world):
    _parcel_for(world, STRANGER)
    other = make_world()
    response = _ask(_signed_in(STRANGER), other)
    assert response.status_code == 200  # the community is not among the choices
    assert not LinkRequest.objects.exists()


def test_approving_adds_the_phone_to_the_roster_and_the_audit_log(world):
    parcel = _parcel_for(world, STRANGER)
    resident_client = _signed_in(STRANGER)
    _ask(resident_client, world)
    link = LinkRequest.objects.get()
    admin, client = _staff(world, StaffRole.ADMIN, "juwei")
    page = client.get(reverse("console:links", args=[world.community.slug])).content.decode()
    assert "赵六" in page and "3-2-502" in page
    response = client.post(
        reverse("console:link_decide", args=[world.community.slug, link.pk, "approve"]),
        {"flat": "3-2-502"},
    )
    assert response.status_code == 302
    resident = Resident.objects.get(community=world.community, phone=STRANGER)
    assert resident.flat.code == "3-2-502" and resident.name == "赵六"
    assert resident.user == PhoneAccount.objects.get(phone=STRANGER).user
    link.refresh_from_db()
    assert link.state == LinkState.APPROVED and link.decided_by == admin
    entry = AuditEntry.objects.get(community=world.community, action="approve")
    assert entry.user == admin and "3-2-502" in entry.summary
    # The parcel it already had stays visible; the resident menu now offers proxies.
    page = resident_client.get(reverse("residents:home")).content.decode()
    assert parcel.pickup_code in page and reverse("residents:proxies") in page
    # Deciding again changes nothing.
    client.post(reverse("console:link_decide", args=[world.community.slug, link.pk, "refuse"]))
    link.refresh_from_db()
    assert link.state == LinkState.APPROVED


def test_approving_with_a_corrected_flat_that_does_not_exist_writes_nothing(world):
    _parcel_for(world, STRANGER)
    _ask(_signed_in(STRANGER), world)
    link = LinkRequest.objects.get()
    _admin, client = _staff(world, StaffRole.ADMIN, "juwei")
    url = reverse("console:link_decide", args=[world.community.slug, link.pk, "approve"])
    response = client.post(url, {"flat": "8-8-808"}, follow=True)
    assert "8-8-808" in response.content.decode()
    link.refresh_from_db()
    assert link.state == LinkState.PENDING
    assert not Resident.objects.filter(phone=STRANGER).exists()
    assert not AuditEntry.objects.exists()


def test_refusing_is_recorded_and_adds_no_one(world):
    _parcel_for(world, STRANGER)
    _ask(_signed_in(STRANGER), world)
    link = LinkRequest.objects.get()
    admin, client = _staff(world, StaffRole.ADMIN, "juwei")
    client.post(reverse("console:link_decide", args=[world.community.slug, link.pk, "refuse"]))
    link.refresh_from_db()
    assert link.state == LinkState.REFUSED and link.decided_by == admin
    assert not Resident.objects.filter(phone=STRANGER).exists()
    assert AuditEntry.objects.get(action="refuse").user == admin


def test_another_communitys_admin_and_non_admins_get_404(world):
    _parcel_for(world, STRANGER)
    resident_client = _signed_in(STRANGER)
    _ask(resident_client, world)
    link = LinkRequest.objects.get()
    other = make_world()
    outsider = get_user_model().objects.create_user("admin-b", password="pw-for-tests")
    Membership.objects.create(user=outsider, community=other.community, role=StaffRole.ADMIN)
    outsider_client = Client()
    outsider_client.force_login(outsider)
    clients = [outsider_client, resident_client]
    for role in (StaffRole.CLERK, StaffRole.COMMITTEE):
        clients.append(_staff(world, role, f"x-{role}")[1])
    list_url = reverse("console:links", args=[world.community.slug])
    decide = reverse("console:link_decide", args=[world.community.slug, link.pk, "approve"])
    for client in clients:
        assert client.get(list_url).status_code == 404
        assert client.post(decide, {"flat": "3-2-502"}).status_code == 404
    # Its own console does not reach this request either.
    own = reverse("console:link_decide", args=[other.community.slug, link.pk, "approve"])
    assert outsider_client.post(own).status_code == 404
    link.refresh_from_db()
    assert link.state == LinkState.PENDING
