"""A number that fits two carriers at the counter: the clerk taps the carrier on the label."""

from __future__ import annotations

import pytest

from jianjian.parcels.models import Parcel
from tests.e2e.conftest import PHONE, TABLET, screenshot, wait_swapped
from tests.e2e.test_counter import Budget, _sign_in, counter_world
from tests.parcels.test_scan_carrier import both_sto_and_yunda

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["counter_world"]


@pytest.mark.parametrize(("language", "viewport"), [("zh-hans", PHONE), ("en", TABLET)])
def test_one_tap_on_the_carrier_takes_an_ambiguous_number_in(
    page_factory, counter_world, language, viewport
):
    world = counter_world
    number = both_sto_and_yunda()
    page = _sign_in(page_factory, world, viewport=viewport, language=language)
    budget = Budget(page)
    budget.scan(number)
    wait_swapped(page, '[data-outcome="carrier"]')
    buttons = page.locator("[data-carrier]")
    assert [buttons.nth(i).get_attribute("data-carrier") for i in range(2)] == ["sto", "yunda"]
    lang = "zh" if language == "zh-hans" else "en"
    screenshot(page, f"counter-intake-carrier-{lang}-{viewport['width']}")
    assert not Parcel.objects.filter(tracking_number=number).exists()
    budget.click('[data-carrier="yunda"]')
    wait_swapped(page, '[data-outcome="recipient"], [data-outcome="taken"]')
    assert budget.clicks == 1
    # Whose it is comes next, as for any parcel not pre-advised; the carrier stays picked.
    page.fill("#phone", world.residents[0].phone)
    page.press("#phone", "Enter")
    wait_swapped(page, '[data-outcome="taken"]')
    assert Parcel.objects.get(tracking_number=number).carrier.code == "yunda"
