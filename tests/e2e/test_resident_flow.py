"""A resident at phone width: sign in with a code, see a parcel, show the QR that the clerk's
pickup screen accepts; a proxy collects; a complaint is raised, answered and closed."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from jianjian.communities.models import Membership, StaffRole
from jianjian.notify.models import Notification
from jianjian.residents.models import Case, CaseState
from tests.e2e.conftest import PHONE, TABLET, screenshot, wait_swapped
from tests.factories import make_world
from tests.residents.conftest import arrive


def _code(phone: str) -> str:
    body = Notification.objects.filter(cause="signin_code", address=phone).latest("pk").body
    found = re.search(r"(?<!\d)(\d{6})(?!\d)", body)
    assert found, body
    return found.group(1)


def _sign_in(page, phone: str, e164: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/me/")
    page.wait_for_url("**/me/signin/**")
    page.fill("#id_phone", phone)
    page.click("#send-code")
    page.wait_for_selector("#id_code")
    page.fill("#id_code", _code(e164))
    page.click("#verify-code")
    page.wait_for_url("**/me/")


def _staff(world, name: str, role: str, point=None):  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user(name, password="a-long-password")
    membership = Membership.objects.create(user=user, community=world.community, role=role)
    if point is not None:
        membership.points.add(point)
    return user


def _staff_login(page, name: str, target: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/login/?next={target}")
    page.fill("#id_username", name)
    page.fill("#id_password", "a-long-password")
    page.press("#id_password", "Enter")
    page.wait_for_url(f"**{target}")


@pytest.mark.django_db(transaction=True)
def test_resident_qr_proxy_and_complaint(page_factory):
    world = make_world()
    resident = world.residents[0]
    first = arrive(world)
    second = arrive(world)
    _staff(world, "clerk-a", StaffRole.CLERK, world.counter)
    _staff(world, "office", StaffRole.ADMIN)

    # The resident signs in with a code and sees both parcels with their pickup codes.
    me = page_factory(viewport=PHONE, language="zh-hans")
    _sign_in(me, "138 1234 5678", resident.phone)
    me.wait_for_selector(f"[data-parcel='{first.pk}']")
    assert first.pickup_code in me.content() and second.pickup_code in me.content()
    assert "我爱我家" in me.content()
    token = me.get_attribute("[data-qr]", "data-qr")
    assert token and token.startswith("JJ1:")
    screenshot(me, "resident-parcels-zh-hans-phone")

    # The resident lets a neighbour collect the second parcel.
    me.goto("/me/proxies/")
    me.fill("#id_phone", "137 0000 1234")
    me.fill("#id_name", "邻居")
    me.select_option("#id_parcel", str(second.pk))
    me.click("#grant-proxy")
    me.wait_for_selector("[data-proxy]")
    assert "137****1234" in me.content()
    screenshot(me, "resident-proxies-zh-hans-phone")

    # At the counter the clerk scans the resident's QR: only the first parcel is handed over.
    counter = page_factory(viewport=TABLET, language="zh-hans")
    _staff_login(counter, "clerk-a", f"/counter/{world.counter.pk}/pickup/")
    counter.fill("#scan", token)
    counter.press("#scan", "Enter")
    wait_swapped(counter, "[data-outcome='found']")
    for box in counter.locator("input[name=parcel]").all():
        if box.get_attribute("value") != str(first.pk):
            box.uncheck()
    counter.click("[data-hand-over]")
    counter.wait_for_selector("[data-outcome='handed']")
    first.refresh_from_db()
    assert first.state == "picked_up"

    # The neighbour signs in on their own phone and sees only the parcel they may collect.
    proxy = page_factory(viewport=PHONE, language="zh-hans")
    _sign_in(proxy, "13700001234", "+8613700001234")
    proxy.wait_for_selector("[data-grant]")
    assert second.pickup_code in proxy.content()
    assert first.tracking_number[-4:] not in proxy.content()
    screenshot(proxy, "resident-proxy-view-zh-hans-phone")
    # They give the last 4 digits of their phone at the counter.
    counter.fill("#scan", "1234")
    counter.press("#scan", "Enter")
    wait_swapped(counter, "[data-outcome='found'] [data-proxy]")
    counter.click("[data-hand-over]")
    counter.wait_for_selector("[data-outcome='handed']")
    second.refresh_from_db()
    assert second.state == "picked_up" and "邻居" in second.collected_by

    # The resident reports a problem with the first parcel, with its custody trail in view.
    me.goto(f"/me/parcels/{first.pk}/")
    me.click(f"a[href='/me/parcels/{first.pk}/report/']")
    me.select_option("#id_kind", "damaged")
    me.fill("#id_description", "外箱压坏了，里面的杯子碎了。")
    me.click("#send-report")
    me.wait_for_selector("#case-state")
    screenshot(me, "resident-report-zh-hans-phone")
    case = Case.objects.get()

    # The office answers and closes it; the resident sees the answer.
    office = page_factory(viewport=TABLET, language="zh-hans")
    _staff_login(office, "office", "/cases/")
    office.wait_for_selector(f"[data-case='{case.pk}']")
    office.click(f"[data-case='{case.pk}'] a")
    office.wait_for_selector("#id_text")
    office.fill("#id_text", "已联系快递公司理赔，请保留外箱。")
    office.check("#id_close")
    screenshot(office, "resident-case-desk-zh-hans-tablet")
    office.click("#send-answer")
    office.wait_for_selector(".msg-success")
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    me.reload()
    me.wait_for_selector("text=已联系快递公司理赔")
    screenshot(me, "resident-report-answered-zh-hans-phone")


@pytest.mark.django_db(transaction=True)
def test_resident_pages_in_english(page_factory):
    world = make_world()
    arrive(world)
    me = page_factory(viewport=PHONE, language="en")
    _sign_in(me, "13812345678", world.residents[0].phone)
    me.wait_for_selector("text=Show this at the counter")
    screenshot(me, "resident-parcels-en-phone")
    me.goto("/me/preferences/")
    me.wait_for_selector("#save-preferences")
    screenshot(me, "resident-preferences-en-phone")
    # Email chosen without an address: a clear message next to the field, nothing saved.
    me.check("#id_channels_1")
    me.click("#save-preferences")
    me.wait_for_selector("text=Enter the email address to write to.")
    screenshot(me, "resident-preferences-error-en-phone")
    me.fill("#id_email", "wang@example.org")
    me.click("#save-preferences")
    me.wait_for_selector(".msg-success")
    assert me.is_checked("#id_channels_1")
