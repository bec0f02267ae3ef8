"""The first five minutes on the demo, in a real browser: a phone that is not on the roster
signs in with the code from the log channel and sees its parcel; the courier lands on the drop
plan; the committee member on the reports; the admin on the dashboard, the console one click
away. Then the public home, the error pages and the console's flat requests, photographed in
both languages at phone and tablet width."""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings
from django.core.management import call_command

from jianjian.communities.demo import SLUG, UNROSTERED_PHONE
from jianjian.communities.phones import national_digits
from jianjian.notify import worker
from jianjian.parcels import services
from jianjian.parcels.models import Parcel, ParcelState
from jianjian.residents import links
from tests.e2e.conftest import PHONE, TABLET, screenshot
from tests.factories import make_world, tracking
from tests.web.test_home import _member

PASSWORD = "jianjian-demo"


def _code_from_log(phone: str) -> str:
    """The newest sign-in code the log channel wrote for ``phone`` (the worker delivers it)."""
    worker.drain()
    lines = settings.NOTIFY_LOG_FILE.read_text(encoding="utf-8").splitlines()
    bodies = [json.loads(line)["body"] for line in lines if json.loads(line)["to"] == phone]
    found = re.search(r"(?<!\d)(\d{6})(?!\d)", bodies[-1])
    assert found, bodies[-1]
    return found.group(1)


def _staff_login(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    page.click("[data-testid=door-staff] a")
    page.fill("#id_username", name)
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")


@pytest.mark.django_db(transaction=True)
def test_first_run_each_role_lands_on_its_work(page_factory):
    call_command("demo")
    waiting = Parcel.objects.filter(
        recipient_phone=UNROSTERED_PHONE, recipient__isnull=True, state=ParcelState.AT_POINT
    )
    assert waiting.exists()

    # A resident not on the roster: from the public home, phone sign-in, code from the log.
    me = page_factory(viewport=PHONE, language="zh-hans")
    me.goto("/")
    me.click("[data-testid=door-resident] a")
    me.fill("#id_phone", national_digits(UNROSTERED_PHONE))
    me.click("#send-code")
    me.wait_for_selector("#id_code")
    me.fill("#id_code", _code_from_log(UNROSTERED_PHONE))
    me.click("#verify-code")
    me.wait_for_url("**/me/")
    for parcel in waiting:
        me.wait_for_selector(f"[data-parcel='{parcel.pk}']")
        assert parcel.pickup_code in me.content()
    assert (me.get_attribute("[data-qr]", "data-qr") or "").startswith("JJ1H:")
    screenshot(me, "first-run-unrostered-parcels-zh-hans-phone")

    # It asks to be added to a flat.
    me.click("[data-testid=link-invite] a")
    me.fill("#id_flat", "3-1-101")
    me.fill("#id_name", "新住户")
    me.click("[data-testid=link-form] button")
    me.wait_for_selector("[data-testid=asked]")

    courier = page_factory(viewport=PHONE, language="zh-hans")
    _staff_login(courier, "courier_sf")
    courier.wait_for_url("**/courier/")

    committee = page_factory(viewport=TABLET, language="zh-hans")
    _staff_login(committee, "yeweihui")
    committee.wait_for_url(f"**/reports/{SLUG}/")
    assert "/console/" not in committee.content()

    # The admin: dashboard first, the console one click away, the request waiting there.
    admin = page_factory(viewport=TABLET, language="zh-hans")
    _staff_login(admin, "juwei")
    admin.wait_for_url(f"**/reports/{SLUG}/")
    admin.click("[data-testid=site-nav] a[href='/console/']")
    admin.wait_for_url(f"**/console/{SLUG}/")
    admin.click("[data-testid=section-links]")
    admin.wait_for_selector("[data-testid=link-request]")
    assert "新住户" in admin.content()
    admin.click("[data-testid=approve]")
    admin.wait_for_selector("[data-testid=decided]")
    assert "3-1-101" in admin.locator("[data-testid=decided]").inner_text()


@pytest.mark.django_db(transaction=True)
def test_screenshots_of_the_home_the_error_pages_and_flat_requests(page_factory, settings):
    settings.ROOT_URLCONF = "tests.web.boom_urls"  # adds a page that fails, for the 500
    world = make_world(slug="garden")
    phone = "+8615000001234"
    services.intake(world.counter, tracking(), actor=world.clerk, phone=phone)
    links.ask(phone, world.community, "3-2-601", "赵六")
    admin = _member(world, "admin", "office")
    admin.set_password(PASSWORD)
    admin.save()
    for language in ("zh-hans", "en"):
        for width, viewport in (("390", PHONE), ("820", TABLET)):
            page = page_factory(viewport=viewport, language=language)
            page.goto("/")
            page.wait_for_selector("[data-testid=door-staff]")
            screenshot(page, f"home-public-{language}-{width}")
            for status, url in (
                ("404", "/no/such/page/"),
                ("500", "/boom/500/"),
                ("403", "/boom/403/"),
            ):
                answer = page.goto(url)
                assert answer is not None and answer.status == int(status)
                page.wait_for_selector("[data-testid=error-page]")
                screenshot(page, f"error-{status}-{language}-{width}")
            _staff_login(page, "office")
            page.wait_for_url("**/reports/garden/")
            page.goto("/console/garden/links/")
            page.wait_for_selector("[data-testid=link-request]")
            screenshot(page, f"console-links-{language}-{width}")
