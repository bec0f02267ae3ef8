"""Inviting staff and couriers: a one-time, expiring link; first sign-in sets the password;
deactivated people cannot sign in."""

from __future__ import annotations

import datetime as dt
import re

from django.contrib.auth import get_user_model
from django.urls import reverse

from jianjian import clock
from jianjian.communities import invitations
from jianjian.communities.models import Invitation, Membership, StaffRole
from jianjian.console.models import AuditEntry
from jianjian.couriers.models import Carrier, Courier

PASSWORD = "a-good-long-passphrase-42"


def _link(response) -> str:  # type: ignore[no-untyped-def]
    match = re.search(
        r'data-testid="invite-link">https?://[^/]+(/invite/[^<]+/)<', response.content.decode()
    )
    assert match, "the page shows the invitation link"
    return match.group(1)


def _invite_clerk(client, world, admin, username="clerk-li"):  # type: ignore[no-untyped-def]
    client.force_login(admin)
    response = client.post(
        reverse("console:staff", args=[world.community.slug]),
        {
            "username": username,
            "name": "李店员",
            "role": StaffRole.CLERK,
            "points": [world.counter.pk],
        },
    )
    assert response.status_code == 200
    client.logout()
    return _link(response)


def test_invited_clerk_sets_a_password_and_lands_at_their_counter(client, world, admin_a):
    link = _invite_clerk(client, world, admin_a)
    user = get_user_model().objects.get(username="clerk-li")
    assert not user.has_usable_password() and not user.is_staff and not user.is_superuser
    assert list(Membership.objects.get(user=user).points.all()) == [world.counter]
    assert client.get(link).status_code == 200
    response = client.post(link, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("home")
    landing = client.get(response.url)
    assert landing.status_code == 302
    assert landing.url == reverse("counter:intake", args=[world.counter.pk])
    client.logout()
    assert client.login(username="clerk-li", password=PASSWORD)
    entry = AuditEntry.objects.get(community=world.community, action="invite")
    assert "clerk-li" in entry.summary and entry.username == "admin-a"


def test_a_used_link_is_refused_with_a_clear_page(client, world, admin_a):
    link = _invite_clerk(client, world, admin_a)
    client.post(link, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    client.logout()
    client.cookies["django_language"] = "en"
    again = client.get(link)
    assert again.status_code == 410
    assert "already used" in again.content.decode()
    other = client.post(link, {"new_password1": "x" + PASSWORD, "new_password2": "x" + PASSWORD})
    assert other.status_code == 410
    assert client.login(username="clerk-li", password=PASSWORD)


def test_an_expired_or_replaced_link_is_refused(client, world, admin_a):
    link = _invite_clerk(client, world, admin_a)
    client.cookies["django_language"] = "en"
    with clock.at(clock.now() + invitations.VALID_FOR + dt.timedelta(minutes=1)):
        expired = client.get(link)
    assert expired.status_code == 410 and "expired" in expired.content.decode()
    member = Membership.objects.get(user__username="clerk-li")
    client.force_login(admin_a)
    fresh = client.post(reverse("console:staff_link", args=[world.community.slug, member.pk]))
    client.logout()
    assert client.get(link).status_code == 410  # the older link stopped working
    assert client.get(_link(fresh)).status_code == 200
    assert client.get("/invite/not-a-token/").status_code == 410


def test_a_weak_password_is_refused_in_the_users_language(client, world, admin_a):
    link = _invite_clerk(client, world, admin_a)
    client.cookies["django_language"] = "en"
    response = client.post(link, {"new_password1": "123", "new_password2": "123"})
    assert response.status_code == 422 and "too short" in response.content.decode()
    assert Invitation.objects.get().accepted_at is None


def test_a_taken_user_name_is_a_form_error(client, world, admin_a):
    client.force_login(admin_a)
    client.cookies["django_language"] = "en"
    response = client.post(
        reverse("console:staff", args=[world.community.slug]),
        {"username": "ADMIN-A", "name": "x", "role": StaffRole.COMMITTEE},
    )
    assert response.status_code == 422 and "is taken" in response.content.decode()


def test_a_clerk_needs_a_point_of_this_community(client, world, admin_a, other_world):
    client.force_login(admin_a)
    response = client.post(
        reverse("console:staff", args=[world.community.slug]),
        {
            "username": "c2",
            "name": "x",
            "role": StaffRole.CLERK,
            "points": [other_world.counter.pk],
        },
    )
    assert response.status_code == 422
    assert not get_user_model().objects.filter(username="c2").exists()


def test_invited_courier_accepts_and_serves_the_community(client, world, admin_a):
    client.force_login(admin_a)
    response = client.post(
        reverse("console:staff_couriers", args=[world.community.slug]),
        {
            "carrier": Carrier.objects.get(code="sf").pk,
            "name": "顺丰王师傅",
            "phone": "13700009999",
            "username": "sf-wang",
        },
    )
    assert response.status_code == 200
    courier = Courier.objects.get(user__username="sf-wang")
    assert list(courier.communities.all()) == [world.community] and courier.active
    assert not courier.user.is_staff  # type: ignore[union-attr]
    link = _link(response)
    client.logout()
    client.post(link, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert client.get(reverse("couriers:home")).status_code == 200
    page = client.get(reverse("console:staff_couriers", args=[world.community.slug]))
    assert page.status_code == 404  # a courier has no console


def test_deactivated_staff_cannot_sign_in(client, world, admin_a):
    link = _invite_clerk(client, world, admin_a)
    client.post(link, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    client.logout()
    member = Membership.objects.get(user__username="clerk-li")
    client.force_login(admin_a)
    response = client.post(
        reverse("console:staff_deactivate", args=[world.community.slug, member.pk])
    )
    assert response.status_code == 302
    client.logout()
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert not client.login(username="clerk-li", password=PASSWORD)
    assert AuditEntry.objects.filter(action="deactivate", community=world.community).count() == 1


def test_deactivating_in_one_community_keeps_another_communitys_role(
    client, world, admin_a, other_world
):
    user = get_user_model().objects.create_user("both", password=PASSWORD)
    here = Membership.objects.create(user=user, community=world.community, role="committee")
    Membership.objects.create(user=user, community=other_world.community, role="committee")
    client.force_login(admin_a)
    client.post(reverse("console:staff_deactivate", args=[world.community.slug, here.pk]))
    user.refresh_from_db()
    assert user.is_active
    assert list(Membership.objects.filter(user=user).values_list("community", flat=True)) == [
        other_world.community.pk
    ]


def test_an_admin_cannot_deactivate_themself(client, world, admin_a):
    me = Membership.objects.get(user=admin_a)
    client.force_login(admin_a)
    client.post(reverse("console:staff_deactivate", args=[world.community.slug, me.pk]))
    assert Membership.objects.filter(pk=me.pk).exists()


def test_deactivated_courier_stops_serving_and_cannot_sign_in(client, world, admin_a):
    courier = world.sf_courier
    courier.user = get_user_model().objects.create_user("sf-old", password=PASSWORD)
    courier.save()
    courier.communities.add(world.community)
    client.force_login(admin_a)
    client.post(reverse("console:courier_deactivate", args=[world.community.slug, courier.pk]))
    courier.refresh_from_db()
    assert not courier.communities.exists() and not courier.active
    client.logout()
    assert not client.login(username="sf-old", password=PASSWORD)


def test_staff_list_shows_last_sign_in(client, world, admin_a):
    clerk = get_user_model().objects.create_user("seen", password=PASSWORD)
    clerk.last_login = dt.datetime(2026, 3, 4, 5, 6, tzinfo=dt.UTC)
    clerk.save()
    Membership.objects.create(user=clerk, community=world.community, role="committee")
    client.force_login(admin_a)
    page = client.get(reverse("console:staff", args=[world.community.slug])).content.decode()
    assert "seen" in page and "2026-03-04" in page


def _invite_sf_wang(client, community, username):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("console:staff_couriers", args=[community.slug]),
        {
            "carrier": Carrier.objects.get(code="sf").pk,
            "name": "顺丰王师傅",
            "phone": "137 0000 9999",
            "username": username,
        },
    )


def test_a_courier_who_serves_another_community_is_not_made_twice(
    client, world, admin_a, other_world
):
    other_admin = get_user_model().objects.create_user("admin-b")
    Membership.objects.create(user=other_admin, community=other_world.community, role="admin")
    client.force_login(admin_a)
    _link(_invite_sf_wang(client, world.community, "sf-wang"))
    client.force_login(other_admin)

    response = _invite_sf_wang(client, other_world.community, "sf-wang-2")

    assert response.status_code == 200
    assert 'data-testid="invite-link"' not in response.content.decode()  # signs in as before
    courier = Courier.objects.get(phone="+8613700009999")  # one courier, not two
    assert set(courier.communities.all()) == {world.community, other_world.community}
    assert not get_user_model().objects.filter(username="sf-wang-2").exists()
    assert AuditEntry.objects.filter(community=other_world.community, action="invite").exists()
    # Inviting them again here is refused, with the reason on the phone field.
    again = _invite_sf_wang(client, other_world.community, "sf-wang-3")
    assert again.status_code == 422 and "已在为本社区送件" in again.content.decode()


def test_a_courier_row_without_an_account_gets_the_account(client, world, admin_a):
    world.sf_courier.phone = "13700009999"
    world.sf_courier.save()
    client.force_login(admin_a)
    _link(_invite_sf_wang(client, world.community, "sf-wang"))
    assert Courier.objects.filter(phone="+8613700009999").count() == 1
    world.sf_courier.refresh_from_db()
    assert world.sf_courier.user.username == "sf-wang"  # type: ignore[union-attr]
