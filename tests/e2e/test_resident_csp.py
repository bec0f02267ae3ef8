"""Every page of the resident side and of the clerk's counter under the Content-Security-Policy.

Each page is opened in headless Chromium and the console is watched: a CSP violation (an inline
script or handler, an eval, a resource from elsewhere) fails the test. The htmx features of each
screen are used on the way, and each must answer in place (the URL does not change), which shows
htmx itself ran under the policy.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.contrib.auth import get_user_model

from jianjian.communities.models import Membership, StaffRole
from jianjian.parcels import services
from jianjian.parcels.matching import RecipientInfo
from jianjian.residents import cases, proxies
from jianjian.residents.models import CaseKind
from tests.e2e.conftest import PHONE, TABLET, wait_focused, wait_swapped
from tests.e2e.test_resident_flow import _sign_in
from tests.factories import make_world, tracking
from tests.residents.conftest import arrive

PASSWORD = "a-long-password"


class CspWatch:
    """Collects CSP violations and script errors from one page's console."""

    def __init__(self, page) -> None:  # type: ignore[no-untyped-def]
        self.page = page
        self.problems: list[str] = []
        self.policies: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("response", self._response)

    def _console(self, message) -> None:  # type: ignore[no-untyped-def]
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.problems.append(f"{self.page.url}: {text}")

    def _response(self, response) -> None:  # type: ignore[no-untyped-def]
        if response.request.resource_type == "document":
            self.policies.append(response.headers.get("content-security-policy", ""))

    def visit(self, url: str, ready: str) -> None:
        self.page.goto(url)
        self.page.wait_for_selector(ready)

    @contextmanager
    def in_place(self) -> Iterator[None]:
        """An htmx answer: the page must not have navigated away."""
        before = self.page.url
        yield
        assert self.page.url == before, f"{before} navigated to {self.page.url}: htmx did not run"

    def assert_clean(self) -> None:
        assert self.problems == []
        assert self.policies and all("script-src 'self'" in p for p in self.policies), self.policies


def _staff(world, name: str, role: str, *points):  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user(name, password=PASSWORD)
    membership = Membership.objects.create(user=user, community=world.community, role=role)
    membership.points.set(points)
    return user


def _staff_login(watch: CspWatch, name: str, target: str) -> None:
    watch.visit(f"/login/?next={target}", "#id_username")
    watch.page.fill("#id_username", name)
    watch.page.fill("#id_password", PASSWORD)
    watch.page.press("#id_password", "Enter")
    watch.page.wait_for_url(f"**{target}")


@pytest.mark.django_db(transaction=True)
def test_the_watch_catches_an_inline_script(page_factory):
    """The detector itself: an inline script injected into a page is reported."""
    page = page_factory(viewport=PHONE)
    watch = CspWatch(page)
    watch.visit("/me/signin/", "#id_phone")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.inlineRan = true'; document.body.appendChild(s); }"
    )
    page.wait_for_function("() => true")
    assert page.evaluate("() => window.inlineRan === undefined")
    assert any("Content Security Policy" in p for p in watch.problems), watch.problems


@pytest.mark.django_db(transaction=True)
def test_resident_pages_have_no_csp_violation_and_htmx_works(page_factory):
    world = make_world()
    parcel = arrive(world)
    later = arrive(world)
    services.hand_over(world.counter, [parcel], actor=world.clerk)
    case = cases.open_case(world.residents[0], parcel, CaseKind.DAMAGED, "外箱压坏")
    proxies.grant(world.residents[0], phone="13700001234", parcel=later)
    _staff(world, "office", StaffRole.ADMIN)

    page = page_factory(viewport=PHONE, language="zh-hans")
    page.clock.install()  # the QR's renewal timer is moved on below, not waited out
    watch = CspWatch(page)
    _sign_in(page, "138 1234 5678", world.residents[0].phone)  # /me/signin/ and the code page
    page.wait_for_selector("[data-qr]")
    # The QR renews itself through htmx: four minutes on, the page fetches a fresh one in place.
    page.evaluate("() => { document.querySelector('[data-qr]').dataset.old = 'yes'; }")
    with watch.in_place(), page.expect_response(lambda r: "/me/qr/r/" in r.url) as renewed:
        page.clock.fast_forward("04:01")
    assert renewed.value.status == 200
    renewed.value.finished()
    page.clock.run_for(1000)  # htmx swaps and settles on (fake) timers
    # The element was replaced by the fresh fragment (a token may repeat within one second).
    assert page.locator("[data-qr]").count() == 1
    assert page.get_attribute("[data-qr]", "data-old") is None
    for url, ready in [
        (f"/me/parcels/{parcel.pk}/", "h1"),
        (f"/me/parcels/{later.pk}/report/", "#id_description"),
        ("/me/proxies/", "#grant-proxy"),
        ("/me/reports/", "h1"),
        (f"/me/reports/{case.pk}/", "#case-state"),
        ("/me/preferences/", "#save-preferences"),
    ]:
        watch.visit(url, ready)
    page.check("#id_channels_0")
    page.click("#save-preferences")
    page.wait_for_selector(".msg-success")

    proxy = page_factory(viewport=PHONE, language="en")
    proxy_watch = CspWatch(proxy)
    _sign_in(proxy, "13700001234", "+8613700001234")
    proxy.wait_for_selector("[data-grant] [data-qr]")
    proxy_watch.visit("/me/preferences/", "h1")

    office = page_factory(viewport=TABLET, language="zh-hans")
    office_watch = CspWatch(office)
    _staff_login(office_watch, "office", "/cases/")
    office_watch.visit(f"/cases/{case.pk}/", "#id_text")

    for w in (watch, proxy_watch, office_watch):
        w.assert_clean()


@pytest.mark.django_db(transaction=True)
def test_counter_pages_have_no_csp_violation_and_htmx_works(page_factory):
    world = make_world()
    _staff(world, "clerk-a", StaffRole.CLERK, world.counter, world.counter2)
    for courier in (world.sf_courier, world.zto_courier):
        courier.communities.add(world.community)
    waiting = arrive(world)
    announced = tracking()
    services.announce(
        world.community,
        announced,
        actor=services.Actor.system("test"),
        recipient=RecipientInfo(resident=world.residents[1]),
    )
    point = world.counter.pk

    page = page_factory(viewport=TABLET, language="zh-hans")
    watch = CspWatch(page)
    watch.visit("/", "main")
    _staff_login(watch, "clerk-a", "/counter/")  # two points: the point picker
    watch.visit(f"/counter/{point}/", "#scan")

    # Intake: a pre-advised parcel is taken in by a scan, answered in place.
    with watch.in_place():
        page.fill("#scan", announced)
        page.press("#scan", "Enter")
        page.wait_for_selector("#result [data-outcome='taken']")
    # An unknown parcel asks whose it is; typing a phone tail fills the flat suggestions.
    with watch.in_place():
        page.fill("#scan", tracking())
        page.press("#scan", "Enter")
        wait_swapped(page, "#result [data-outcome='recipient']")
        wait_focused(page, "last4")
        page.fill("#last4", "5678")
        page.wait_for_selector("#flat-options option", state="attached")

    # Pickup: a lookup and a one-click handover, both in place.
    watch.visit(f"/counter/{point}/pickup/", "#scan")
    with watch.in_place():
        page.fill("#scan", waiting.pickup_code)
        page.press("#scan", "Enter")
        wait_swapped(page, "[data-outcome='found']")
        page.click("[data-hand-over]")
        page.wait_for_selector("[data-outcome='handed']")

    # Returns: a scan of a parcel that is not here gets its message in place.
    watch.visit(f"/counter/{point}/returns/", "#courier")
    with watch.in_place():
        page.select_option("#courier", str(world.sf_courier.pk))
        page.fill("#scan", "SF0000000000000")
        page.press("#scan", "Enter")
        page.wait_for_selector("#returns-panel [role='alert']")

    watch.visit(f"/counter/{point}/parcels/", "h1, table, main")
    watch.visit(f"/counter/{point}/parcels/{waiting.pk}/", "main")
    watch.assert_clean()
