"""The clerk's counter in headless Chromium: each flow driven as a clerk would, keyboard first.

A USB scanner is a keyboard that types the number and Enter, so a scan is ``keyboard.type`` plus
``Enter``. The ``Budget`` counts every click and keystroke a flow needs, and each test asserts the
product's promise: intake of a pre-advised parcel takes 0 clicks, a pickup takes 1.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest

from jianjian import clock
from jianjian.communities.models import PickupProxy
from jianjian.parcels import services
from jianjian.parcels.matching import RecipientInfo
from jianjian.parcels.models import CustodyEvent, EventKind, Parcel, ParcelState
from tests.e2e.conftest import PHONE, TABLET, screenshot, wait_focused, wait_swapped
from tests.factories import CLERK_PASSWORD, World, make_clerk, make_world, tracking

PASSWORD = CLERK_PASSWORD
pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Budget:
    """Drives the page and counts what the clerk had to do."""

    page: Any
    clicks: int = 0
    keys: int = 0
    log: list[str] = field(default_factory=list)

    def scan(self, text: str) -> None:
        self.type(text)
        self.press("Enter")

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)
        self.keys += len(text)

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.keys += 1

    def click(self, selector: str) -> None:
        self.page.click(selector)
        self.clicks += 1


@pytest.fixture
def counter_world() -> World:
    world = make_world()
    make_clerk(world)
    for courier in (world.sf_courier, world.zto_courier):
        courier.communities.add(world.community)
    return world


def _sign_in(page_factory, world: World, viewport=TABLET, language="zh-hans"):  # type: ignore[no-untyped-def]
    """Sign in with the keyboard alone; a one-point clerk lands on their intake screen."""
    page = page_factory(viewport=viewport, language=language)
    page.goto("/login/")
    # Typing starts once the cursor is in the name field, as a clerk waits to see it: Chromium
    # applies autofocus at a rendering step after the load, and keys sent before went nowhere.
    wait_focused(page, "id_username")
    page.keyboard.type(world.clerk.user.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/counter/{world.counter.pk}/")
    wait_focused(page, "scan")
    return page


def _announce(world: World, resident: int = 0) -> str:
    number = tracking()
    services.announce(
        world.community,
        number,
        actor=services.Actor.system("carrier"),
        recipient=RecipientInfo(resident=world.residents[resident]),
    )
    return number


def _at_counter(world: World, resident: int = 0, carrier: str = "sf") -> Parcel:
    return services.intake(
        world.counter,
        tracking(carrier),
        actor=world.clerk,
        phone=world.residents[resident].phone,
    ).parcel


def _scan_focused(page) -> bool:  # type: ignore[no-untyped-def]
    """Wait for the scan field to have the focus back: the counter's script returns it once htmx
    has settled the answer, a moment after the answer is on screen."""
    wait_focused(page, "scan")
    return True


def test_scanner_takes_a_pre_advised_parcel_in_with_zero_clicks(page_factory, counter_world):
    world = counter_world
    number = _announce(world)
    page = _sign_in(page_factory, world)
    budget = Budget(page)
    budget.scan(number)
    page.wait_for_selector('[data-outcome="taken"]')
    parcel = Parcel.objects.get(tracking_number=number)
    assert parcel.state == ParcelState.AT_POINT
    assert page.inner_text("[data-code]") == parcel.pickup_code
    assert page.inner_text("[data-slot]") == parcel.slot.label
    assert budget.clicks == 0 and budget.keys == len(number) + 1
    # Ready for the next parcel at once: the field is empty and focused, capacity went down.
    assert _scan_focused(page) and page.input_value("#scan") == ""
    assert "49" in page.inner_text("#capacity")
    assert "1" in page.inner_text("#label-queue")


def test_a_duplicate_scan_shows_the_parcel_already_there(page_factory, counter_world):
    world = counter_world
    parcel = _at_counter(world)
    page = _sign_in(page_factory, world)
    Budget(page).scan(parcel.tracking_number)
    page.wait_for_selector('[data-outcome="duplicate"]')
    assert page.inner_text("[data-code]") == parcel.pickup_code
    assert CustodyEvent.objects.filter(parcel=parcel).count() == 1


def test_unmatched_parcel_is_completed_with_last4_and_flat(page_factory, counter_world):
    world = counter_world
    number = tracking()
    page = _sign_in(page_factory, world)
    budget = Budget(page)
    budget.scan(number)
    page.wait_for_selector('[data-outcome="recipient"]')
    wait_focused(page, "last4")
    budget.type("5678")
    budget.press("Tab")
    budget.type("3-2-5")
    # Suggestions as you type: the flats of residents whose phone ends in 5678.
    page.wait_for_selector('#flat-options option[value="3-2-501"]', state="attached")
    budget.type("01")
    budget.press("Enter")
    page.wait_for_selector('[data-outcome="taken"]')
    parcel = Parcel.objects.get(tracking_number=number)
    assert parcel.recipient == world.residents[0]
    assert budget.clicks == 0
    assert _scan_focused(page)


def test_capacity_refusal_and_override_with_a_reason(page_factory, counter_world):
    world = counter_world
    world.counter.daily_capacity = 1
    world.counter.save()
    _at_counter(world)
    number = _announce(world)
    page = _sign_in(page_factory, world)
    assert "0" in page.inner_text("#capacity")
    budget = Budget(page)
    budget.scan(number)
    page.wait_for_selector('[data-outcome="capacity"]')
    assert Parcel.objects.get(tracking_number=number).state == ParcelState.ANNOUNCED
    wait_focused(page, "override")
    budget.type("老人等着取")
    budget.press("Enter")
    page.wait_for_selector('[data-outcome="taken"]')
    event = CustodyEvent.objects.get(parcel__tracking_number=number, kind=EventKind.INTAKE)
    assert event.data["override_reason"] == "老人等着取"
    assert budget.clicks == 0


def _go_pickup(page, world: World) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/counter/{world.counter.pk}/pickup/")
    wait_focused(page, "scan")


def test_pickup_by_code_hands_everything_over_in_one_click(page_factory, counter_world):
    world = counter_world
    mine = [_at_counter(world), _at_counter(world)]
    page = _sign_in(page_factory, world)
    _go_pickup(page, world)
    budget = Budget(page)
    budget.scan(mine[1].pickup_code)
    wait_swapped(page, '[data-outcome="found"]')
    budget.click("[data-hand-over]")
    page.wait_for_selector('[data-outcome="handed"]')
    assert budget.clicks == 1
    states = {p.state for p in Parcel.objects.filter(pk__in=[p.pk for p in mine])}
    assert states == {ParcelState.PICKED_UP}


def test_pickup_by_phone_tail_in_one_click(page_factory, counter_world):
    world = counter_world
    parcel = _at_counter(world, resident=2)  # phone ends in 1111
    page = _sign_in(page_factory, world)
    _go_pickup(page, world)
    budget = Budget(page)
    budget.scan("1111")
    wait_swapped(page, '[data-outcome="found"]')
    budget.click("[data-hand-over]")
    page.wait_for_selector('[data-outcome="handed"]')
    parcel.refresh_from_db()
    assert parcel.state == ParcelState.PICKED_UP and budget.clicks == 1
    event = CustodyEvent.objects.get(parcel=parcel, kind=EventKind.HAND_OVER)
    assert event.method == "phone_tail"


def test_wrong_code_gets_a_message_and_hands_nothing_over(page_factory, counter_world):
    world = counter_world
    parcel = _at_counter(world)
    page = _sign_in(page_factory, world)
    _go_pickup(page, world)
    Budget(page).scan("A9-9-999")
    page.wait_for_selector('[data-outcome="error"]')
    assert "A9-9-999" in page.inner_text("#result")
    parcel.refresh_from_db()
    assert parcel.state == ParcelState.AT_POINT


def test_proxy_pickup_in_one_click_and_the_record_says_so(page_factory, counter_world):
    world = counter_world
    parcel = _at_counter(world)
    PickupProxy.objects.create(
        community=world.community,
        resident=world.residents[0],
        phone="13600009999",
        name="小王",
        valid_until=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
    )
    page = _sign_in(page_factory, world)
    _go_pickup(page, world)
    budget = Budget(page)
    budget.scan("9999")
    wait_swapped(page, "[data-proxy]")
    budget.click("[data-hand-over]")
    page.wait_for_selector('[data-outcome="handed"]')
    event = CustodyEvent.objects.get(parcel=parcel, kind=EventKind.HAND_OVER)
    assert "proxy_id" in event.data and "小王" in event.holder
    assert budget.clicks == 1


def _dead(world: World, carrier: str = "sf") -> Parcel:
    with clock.at(dt.datetime.now(dt.UTC) - dt.timedelta(days=9)):
        return _at_counter(world, carrier=carrier)


def test_return_to_courier_scans_each_parcel_out(page_factory, counter_world):
    world = counter_world
    dead = [_dead(world), _dead(world)]
    page = _sign_in(page_factory, world)
    page.goto(f"/counter/{world.counter.pk}/returns/")
    page.wait_for_selector('[data-carrier="sf"]')
    page.select_option("#courier", str(world.sf_courier.pk))
    page.focus("#scan")
    for parcel in dead:
        Budget(page).scan(parcel.tracking_number)
        page.wait_for_selector(f'[data-outcome="returned"]:has-text("{parcel.tracking_number}")')
    returned = Parcel.objects.filter(pk__in=[p.pk for p in dead])
    assert {p.state for p in returned} == {ParcelState.RETURNED}
    assert {p.returned_to_id for p in returned} == {world.sf_courier.pk}
    assert page.locator('[data-carrier="sf"]').count() == 0


# --- screenshots of every screen, both languages, phone and tablet --------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewport", [PHONE, TABLET], ids=["390", "820"])
def test_screenshots_of_every_counter_screen(page_factory, counter_world, language, viewport):
    world = counter_world
    width = viewport["width"]
    lang = "zh" if language == "zh-hans" else "en"

    def shot(page, screen: str) -> None:  # type: ignore[no-untyped-def]
        screenshot(page, f"counter-{screen}-{lang}-{width}")

    _dead(world)
    _dead(world, "zto")
    for resident in (0, 1, 2):
        _at_counter(world, resident)
    page = page_factory(viewport=viewport, language=language)
    page.goto("/login/")
    shot(page, "login")
    page = _sign_in(page_factory, world, viewport, language)
    Budget(page).scan(_announce(world))
    page.wait_for_selector('[data-outcome="taken"]')
    shot(page, "intake")
    Budget(page).scan(tracking())
    page.wait_for_selector('[data-outcome="recipient"]')
    shot(page, "intake-recipient")
    _go_pickup(page, world)
    Budget(page).scan("5678")
    page.wait_for_selector('[data-outcome="found"]')
    shot(page, "pickup")
    page.goto(f"/counter/{world.counter.pk}/returns/")
    page.wait_for_selector('[data-carrier="sf"]')
    shot(page, "returns")
    page.goto(f"/counter/{world.counter.pk}/parcels/")
    page.wait_for_selector("table.onhand")
    shot(page, "onhand")
    page.click("table.onhand a.code >> nth=0")
    page.wait_for_selector(".trail")
    shot(page, "parcel")
    assert page.locator('.trail [data-kind="intake"]').count() == 1
