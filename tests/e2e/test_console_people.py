"""The community admin gets a community on: a 2,000-flat roster with three bad rows, then a clerk
and a courier invited, who set their passwords and sign in. Screenshots of every people page."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation

from jianjian.communities import invitations, roster
from jianjian.communities.models import Membership, Resident, StaffRole
from jianjian.couriers.models import Carrier, Courier
from tests.console.people_files import flat, phone, xlsx_bytes
from tests.e2e.conftest import PHONE, TABLET, screenshot
from tests.factories import make_world

pytestmark = pytest.mark.browser

ADMIN_PASSWORD = "juweihui-password-1"
NEW_PASSWORD = "my-own-long-password-7"


def _admin(world):  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user("juweihui", password=ADMIN_PASSWORD)
    Membership.objects.create(user=user, community=world.community, role=StaffRole.ADMIN)
    return user


def _sign_in(page, username: str, password: str, next_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.press("#id_password", "Enter")
    page.wait_for_url(f"**{next_url}")


def _roster_with_three_bad_rows(tmp_path):  # type: ignore[no-untyped-def]
    rows: list[tuple[str, str, str, str]] = [
        (flat(i, per_entrance=25), phone(i), f"住户{i}", "") for i in range(2000)
    ]
    rows.insert(10, ("第三栋", phone(90_001), "坏房号", ""))  # line 12: not a flat
    rows.insert(500, ("9-9-901", "12345", "坏手机", ""))  # line 502: not a phone
    rows.insert(1500, ("9-9-902", phone(7), "重复", ""))  # line 1502: phone of line 9
    path = tmp_path / "花名册.xlsx"
    path.write_bytes(xlsx_bytes(rows))
    return path


def _accept(page, link: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(link)
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.click("button[type=submit]")


@pytest.mark.django_db(transaction=True)
def test_admin_imports_a_roster_and_invites_a_clerk_and_a_courier(page_factory, tmp_path):
    world = make_world()
    _admin(world)
    slug = world.community.slug
    page = page_factory(viewport=TABLET, language="en")
    _sign_in(page, "juweihui", ADMIN_PASSWORD, f"/console/{slug}/roster/")
    page.set_input_files("#id_file", str(_roster_with_three_bad_rows(tmp_path)))
    page.click("button[type=submit]")
    page.wait_for_selector("#errors")
    errors = page.inner_text("[data-testid=row-errors]")
    assert re.search(r"12\s+flat\s+“第三栋” is not a flat", errors)
    assert re.search(r"502\s+phone\s+“12345” is not a valid phone number", errors)
    assert re.search(r"1502\s+phone\s+This phone is already on line 9 of this file", errors)
    assert "2000 to add" in page.inner_text("#summary")
    page.check("#id_import_good_rows")
    page.click("#confirm button[type=submit]")
    page.wait_for_url(f"**/console/{slug}/residents/")
    assert "2000 added" in page.inner_text(".messages")
    assert Resident.objects.filter(community=world.community).count() == 2003

    page.goto(f"/console/{slug}/staff/")
    page.fill("#id_username", "clerk-wang")
    page.fill("#id_name", "王店员")
    page.select_option("#id_role", StaffRole.CLERK)
    page.check(f"input[name=points][value='{world.counter.pk}']")
    page.click("#invite button[type=submit]")
    clerk_link = page.inner_text("[data-testid=invite-link]")

    page.goto(f"/console/{slug}/couriers/")
    page.select_option("#id_carrier", str(Carrier.objects.get(code="sf").pk))
    page.fill("#id_name", "顺丰王师傅")
    page.fill("#id_phone", "13700009999")
    page.fill("#id_username", "sf-wang")
    page.click("#invite button[type=submit]")
    courier_link = page.inner_text("[data-testid=invite-link]")

    clerk = page_factory(viewport=PHONE, language="zh-hans")
    _accept(clerk, clerk_link)
    clerk.wait_for_url(f"**{reverse('counter:intake', args=[world.counter.pk])}")

    courier = page_factory(viewport=PHONE, language="zh-hans")
    _accept(courier, courier_link)
    courier.wait_for_url("**/")
    courier.context.clear_cookies()  # signed in by the link; now with the new password
    _sign_in(courier, "sf-wang", NEW_PASSWORD, "/courier/")
    assert Courier.objects.get(user__username="sf-wang").communities.filter(pk=world.community.pk)

    # The link works once.
    again = page_factory(viewport=PHONE, language="en")
    again.goto(clerk_link)
    assert "already used" in again.inner_text("[data-testid=invite-error]")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_screenshots_of_the_people_pages(page_factory, language):
    world = make_world()
    admin = _admin(world)
    world.sf_courier.communities.add(world.community)
    slug = world.community.slug
    rows = [(flat(i), phone(i), f"住户{i}", "") for i in range(60)]
    rows += [("3-2-501", "13812345678", "张三", ""), ("3-2-502", "13912345678", "李四", "是")]
    rows += [("五号楼", phone(99), "赵六", ""), ("1-1-101", "12345", "钱七", "")]
    with translation.override(language):  # the row errors are kept in the uploader's language
        upload = roster.read_upload(world.community, "花名册.xlsx", xlsx_bytes(rows), admin)
    _member, token = invitations.invite_staff(
        world.community,
        admin,
        username="new-clerk",
        name="新店员",
        role=StaffRole.CLERK,
        points=[world.counter],
    )
    pages = {
        "community": f"/console/{slug}/community/",
        "residents": f"/console/{slug}/residents/",
        "resident": f"/console/{slug}/residents/{world.residents[0].pk}/",
        "flats": f"/console/{slug}/flats/",
        "roster": f"/console/{slug}/roster/",
        "roster-preview": f"/console/{slug}/roster/{upload.pk}/",
        "staff": f"/console/{slug}/staff/",
        "couriers": f"/console/{slug}/couriers/",
    }
    for viewport in (PHONE, TABLET):
        page = page_factory(viewport=viewport, language=language)
        _sign_in(page, "juweihui", ADMIN_PASSWORD, pages["community"])
        for name, url in pages.items():
            page.goto(url)
            page.wait_for_selector(".console-body h1")
            screenshot(page, f"console-people-{name}-{language}-{viewport['width']}")
        page.goto(f"/invite/{token}/")
        page.wait_for_selector("#id_new_password1")
        screenshot(page, f"console-people-invite-{language}-{viewport['width']}")
        page.goto("/invite/not-a-valid-token/")
        page.wait_for_selector("[data-testid=invite-error]")
        screenshot(page, f"console-people-invite-invalid-{language}-{viewport['width']}")
