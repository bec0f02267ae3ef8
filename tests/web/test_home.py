"""Where each person lands after signing in, what the menu offers them, the public home page,
and the error pages (styled, in the visitor's language, with DEBUG off)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import reverse

from jianjian import access
from jianjian.communities.models import Community, Membership, StaffRole
from tests.factories import World
from tests.residents.conftest import sign_in

pytestmark = pytest.mark.django_db


def _user(name: str, **extra: Any) -> Any:
    return get_user_model().objects.create_user(name, password="pw-for-tests", **extra)


def _member(world: World, role: str, name: str, points: tuple = ()) -> Any:
    user = _user(name)
    membership = Membership.objects.create(user=user, community=world.community, role=role)
    membership.points.set(points)
    return user


def _courier(world: World) -> Any:
    user = _user("courier")
    world.sf_courier.user = user
    world.sf_courier.save()
    world.sf_courier.communities.add(world.community)
    return user


def _landing(user: Any) -> str:
    client = Client()
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 302
    return str(response["Location"])


def _nav_urls(user: Any) -> set[str]:
    return {url for _label, url in access.nav_for(user)}


def test_a_clerk_of_one_point_lands_on_its_intake(world):
    clerk = _member(world, StaffRole.CLERK, "one", (world.counter,))
    assert _landing(clerk) == reverse("counter:intake", args=[world.counter.pk])


def test_a_clerk_of_several_points_lands_on_the_point_picker(world):
    clerk = _member(world, StaffRole.CLERK, "two", (world.counter, world.counter2))
    assert _landing(clerk) == reverse("counter:choose")


def test_a_courier_lands_on_the_drop_plan(world):
    assert _landing(_courier(world)) == reverse("couriers:home")


def test_an_admin_lands_on_the_dashboard_with_the_console_in_the_menu(world):
    admin = _member(world, StaffRole.ADMIN, "juwei")
    assert _landing(admin) == reverse("reports:dashboard", args=[world.community.slug])
    client = Client()
    client.force_login(admin)
    page = client.get(reverse("reports:dashboard", args=[world.community.slug])).content.decode()
    assert f'href="{reverse("console:choose")}"' in page


def test_a_committee_member_lands_on_the_reports(world):
    member = _member(world, StaffRole.COMMITTEE, "yeweihui")
    assert _landing(member) == reverse("reports:dashboard", args=[world.community.slug])


def test_a_resident_lands_on_my_parcels_after_the_code_sign_in(world):
    client = Client()
    sign_in(client, world.residents[0].phone)
    response = client.get("/")
    assert response["Location"] == reverse("residents:home")


def test_staff_sign_in_goes_to_the_landing_page(world):
    clerk = _member(world, StaffRole.CLERK, "pw", (world.counter,))
    response = Client().post("/login/", {"username": "pw", "password": "pw-for-tests"})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")  # LOGIN_REDIRECT_URL, which sends on:
    assert _landing(clerk) == reverse("counter:intake", args=[world.counter.pk])


def test_a_superuser_without_points_lands_on_the_console_list_or_the_django_admin(db):
    root = get_user_model().objects.create_superuser("root", password="x" * 12)
    assert _landing(root) == reverse("admin:index")  # no community yet: the Django admin
    Community.objects.create(name="新社区", slug="new")
    assert _landing(root) == reverse("console:choose")


def test_a_user_without_any_role_stays_on_the_home_page_and_is_told_why(world):
    client = Client()
    client.force_login(_user("nobody"))
    response = client.get("/")
    assert response.status_code == 200
    assert b'data-testid="no-role"' in response.content
    assert b'data-testid="site-nav"' not in response.content


def test_the_menu_shows_only_what_the_role_may_use(world):
    clerk = _member(world, StaffRole.CLERK, "c", (world.counter,))
    courier = _courier(world)
    committee = _member(world, StaffRole.COMMITTEE, "m")
    console, plan = reverse("console:choose"), reverse("couriers:home")
    counter = reverse("counter:intake", args=[world.counter.pk])
    assert counter in _nav_urls(clerk)
    assert not {console, plan} & _nav_urls(clerk)
    assert _nav_urls(courier) == {plan, reverse("couriers:upload")}
    committee_urls = _nav_urls(committee)
    assert reverse("reports:dashboard", args=[world.community.slug]) in committee_urls
    assert not {console, counter, plan, reverse("residents:staff_cases")} & committee_urls
    assert access.nav_for(AnonymousUser()) == []  # nobody signed in: no menu


def test_every_menu_link_of_every_role_opens(world):
    """What the menu offers is what the person may open (no 403/404 behind a menu item)."""
    users = [
        _member(world, StaffRole.CLERK, "c", (world.counter,)),
        _member(world, StaffRole.ADMIN, "a"),
        _member(world, StaffRole.COMMITTEE, "m"),
        _courier(world),
    ]
    for user in users:
        client = Client()
        client.force_login(user)
        for label, url in access.nav_for(user):
            assert client.get(url, follow=True).status_code == 200, (user.username, label, url)


def test_a_roster_resident_has_the_resident_menu_and_no_staff_area(world):
    rostered = Client()
    sign_in(rostered, world.residents[0].phone)
    page = rostered.get(reverse("residents:home")).content.decode()
    assert reverse("residents:proxies") in page and reverse("residents:preferences") in page
    assert reverse("console:choose") not in page and reverse("couriers:home") not in page


def test_a_clerk_page_keeps_its_own_screen_links_under_the_menu(world):
    clerk = _member(world, StaffRole.CLERK, "c", (world.counter,))
    client = Client()
    client.force_login(clerk)
    page = client.get(reverse("counter:intake", args=[world.counter.pk])).content.decode()
    assert 'data-testid="site-nav"' in page
    assert reverse("counter:pickup", args=[world.counter.pk]) in page


@pytest.mark.parametrize(
    ("language", "resident", "courier", "staff"),
    [
        ("zh-hans", "用手机号登录", "快递员登录", "工作人员"),
        ("en", "Sign in with my phone", "Courier sign-in", "Staff sign-in"),
    ],
)
def test_the_public_home_page_says_where_each_person_signs_in(
    client, language, resident, courier, staff
):
    client.cookies["django_language"] = language
    page = client.get("/").content.decode()
    assert resident in page and courier in page and staff in page
    assert reverse("residents:signin") in page and reverse("login") in page
    assert "/admin/" not in page  # the Django admin is no one's front door


# --- error pages ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text"), [("zh-hans", "这里什么也没有"), ("en", "There is nothing here")]
)
def test_404_is_styled_and_in_the_visitors_language(client, settings, language, text):
    settings.DEBUG = False
    client.cookies["django_language"] = language
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert text in page and "app.css" in page and 'data-testid="error-page"' in page


def test_a_console_of_another_community_is_the_styled_404_with_the_menu(world, settings):
    settings.DEBUG = False
    clerk = _member(world, StaffRole.CLERK, "c", (world.counter,))
    client = Client()
    client.force_login(clerk)
    response = client.get(reverse("console:index", args=[world.community.slug]))
    assert response.status_code == 404
    assert b'data-testid="error-page"' in response.content
    assert b'data-testid="site-nav"' in response.content


@pytest.mark.parametrize(
    ("language", "text"), [("zh-hans", "您无权进行此操作"), ("en", "You may not do this")]
)
def test_403_is_styled_and_in_the_visitors_language(client, settings, language, text):
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.web.boom_urls"
    client.cookies["django_language"] = language
    response = client.get("/boom/403/")
    assert response.status_code == 403
    assert text in response.content.decode() and b"app.css" in response.content


@pytest.mark.parametrize(
    ("language", "text"),
    [("zh-hans", "系统出了点问题"), ("en", "Something went wrong on our side")],
)
def test_500_is_styled_and_in_the_visitors_language(settings, language, text):
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.web.boom_urls"
    client = Client(raise_request_exception=False)
    client.cookies["django_language"] = language
    response = client.get("/boom/500/")
    assert response.status_code == 500
    page = response.content.decode()
    assert text in page and "app.css" in page
    assert "Traceback" not in page and "RuntimeError" not in page


def test_a_database_fault_still_gets_its_503_page(settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.web.boom_urls"
    response = Client(raise_request_exception=False).get("/boom/disk-full/")
    assert response.status_code == 503
