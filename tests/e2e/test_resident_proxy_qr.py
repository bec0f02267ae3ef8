"""A proxy collects with their own QR: they sign in on a phone, the QR on their screen is read
(as the counter's scanner reads it), and the clerk hands over what that grant covers in one click.
"""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

from jianjian.parcels.models import CustodyEvent, EventKind, ParcelState
from jianjian.residents import proxies
from tests.e2e.conftest import PHONE, TABLET, screenshot, wait_focused, wait_swapped
from tests.e2e.test_resident_flow import _sign_in
from tests.factories import CLERK_PASSWORD, make_clerk, make_world
from tests.residents.conftest import arrive

PASSWORD = CLERK_PASSWORD


def _read_qr(png: bytes) -> str:
    """The text of the one QR code in a screenshot."""
    found = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]
    assert len(found) == 1, found
    return found[0]


def _clerk_pickup_screen(page_factory, world):  # type: ignore[no-untyped-def]
    user = make_clerk(world)
    page = page_factory(viewport=TABLET, language="zh-hans")
    page.goto(f"/login/?next=/counter/{world.counter.pk}/pickup/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(f"**/counter/{world.counter.pk}/pickup/")
    wait_focused(page, "scan")
    return page


@pytest.mark.django_db(transaction=True)
def test_proxy_shows_their_qr_and_the_clerk_hands_over_in_one_click(page_factory):
    world = make_world()
    kept = arrive(world)
    for_proxy = arrive(world)
    grant = proxies.grant(world.residents[0], phone="137 0000 1234", name="邻居", parcel=for_proxy)

    # The neighbour signs in on their phone and opens their pickup QR.
    phone = page_factory(viewport=PHONE, language="zh-hans")
    _sign_in(phone, "13700001234", "+8613700001234")
    qr = phone.locator(f"[data-grant='{grant.pk}'] .qr svg")
    qr.wait_for()
    screenshot(phone, "resident-proxy-qr-zh-hans-phone")
    token = _read_qr(qr.screenshot())
    assert token.startswith("JJ1P:")

    # The clerk scans it: only the parcel the grant covers, with the proxy named.
    counter = _clerk_pickup_screen(page_factory, world)
    counter.keyboard.type(token)
    counter.keyboard.press("Enter")
    wait_swapped(counter, "[data-outcome='found'] [data-proxy]")
    result = counter.inner_text("#result")
    assert for_proxy.pickup_code in result and kept.pickup_code not in result
    assert "1234" in result
    screenshot(counter, "counter-pickup-proxy-qr-zh-hans-tablet")
    counter.click("[data-hand-over]")  # the one click
    wait_swapped(counter, "[data-outcome='handed']")
    wait_focused(counter, "scan")  # the next scan goes where the clerk's cursor is back
    screenshot(counter, "counter-pickup-proxy-qr-handed-zh-hans-tablet")

    for_proxy.refresh_from_db()
    kept.refresh_from_db()
    assert for_proxy.state == ParcelState.PICKED_UP and kept.state == ParcelState.AT_POINT
    event = CustodyEvent.objects.get(parcel=for_proxy, kind=EventKind.HAND_OVER)
    assert event.method == "qr" and event.data["proxy_id"] == grant.pk
    assert "邻居" in event.holder

    # The same QR again: nothing left for this proxy, and nothing else is handed over.
    counter.keyboard.type(token)
    counter.keyboard.press("Enter")
    counter.wait_for_selector("[data-outcome='error']")
    kept.refresh_from_db()
    assert kept.state == ParcelState.AT_POINT


@pytest.mark.django_db(transaction=True)
def test_revoked_proxy_qr_is_refused_at_the_counter(page_factory):
    world = make_world()
    parcel = arrive(world)
    grant = proxies.grant(world.residents[0], phone="13700001234", days=3)
    phone = page_factory(viewport=PHONE, language="en")
    _sign_in(phone, "13700001234", "+8613700001234")
    qr = phone.locator(f"[data-grant='{grant.pk}'] .qr svg")
    qr.wait_for()
    token = _read_qr(qr.screenshot())
    proxies.revoke(grant)  # the resident changes their mind while the proxy walks over

    counter = _clerk_pickup_screen(page_factory, world)
    counter.keyboard.type(token)
    counter.keyboard.press("Enter")
    alert = counter.wait_for_selector("[data-outcome='error']")
    assert "撤销" in alert.inner_text()
    assert counter.locator("[data-hand-over]").count() == 0
    parcel.refresh_from_db()
    assert parcel.state == ParcelState.AT_POINT
