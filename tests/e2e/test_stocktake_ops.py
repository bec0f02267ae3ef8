"""In headless Chromium: a stocktake with one missing and one unexpected parcel, resolved; a
disinfection task logged in two taps; the dashboard rendered. Screenshots in docs/screenshots."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from jianjian.communities.models import Membership, StaffRole
from jianjian.parcels import services
from jianjian.parcels.fold import check
from jianjian.parcels.models import Parcel, ParcelState
from jianjian.points import disinfection
from jianjian.points.models import DisinfectionLog
from tests.e2e.conftest import PHONE, TABLET, screenshot, wait_swapped
from tests.factories import make_world, tracking

PASSWORD = "a-long-password-7"


def sign_in(page, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    # Not wait_for_load_state(): the login page itself is loaded, so it returns at once and the
    # next goto() can cut the sign-in POST short.
    page.wait_for_url(lambda url: "/login/" not in url)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_stocktake_disinfection_and_dashboard_in_the_browser(page_factory, language):
    world = make_world()
    User = get_user_model()
    clerk = User.objects.create_user("st-clerk", password=PASSWORD)
    membership = Membership.objects.create(
        user=clerk, community=world.community, role=StaffRole.CLERK
    )
    membership.points.add(world.counter)
    admin = User.objects.create_user("st-admin", password=PASSWORD)
    Membership.objects.create(user=admin, community=world.community, role=StaffRole.ADMIN)

    phone = world.residents[0].phone
    on_shelf = services.intake(world.counter, tracking(), actor=world.clerk, phone=phone).parcel
    lost = services.intake(world.counter, tracking(), actor=world.clerk, phone=phone).parcel
    stray = services.intake(world.counter2, tracking(), actor=world.clerk, phone=phone).parcel
    task = disinfection.setup_task(
        world.counter, "柜台台面", interval_hours=4, starts_at=dt.time(0), ends_at=dt.time(23, 59)
    )

    page = page_factory(viewport=PHONE, language=language)
    sign_in(page, "st-clerk")
    page.goto(f"/stocktake/point/{world.counter.pk}/")
    page.click("[data-testid=start]")
    page.wait_for_selector("[data-testid=scan]")
    # A parcel on the shelf that was never taken in, whose number fits STO and Yunda alike.
    unlisted = "430000009000002"
    for number in (on_shelf.tracking_number, stray.tracking_number, unlisted):
        page.fill("[data-testid=scan]", number)
        page.press("[data-testid=scan]", "Enter")
        wait_swapped(page, f"[data-testid=last]:has-text('{number}')")
    assert page.inner_text("[data-testid=missing-count]") == "1"
    assert page.inner_text("[data-testid=unexpected-count]") == "2"
    page.wait_for_selector(f"[data-testid=missing-{lost.tracking_number}]")
    page.wait_for_selector(f"[data-testid=unexpected-{stray.tracking_number}]")
    screenshot(page, f"stocktake-discrepancies-{language}-phone")

    page.click(f"[data-testid=do-mark_missing-{lost.tracking_number}]")
    wait_swapped(page, f"[data-testid=resolved-{lost.tracking_number}]")
    page.click(f"[data-testid=do-move_here-{stray.tracking_number}]")
    wait_swapped(page, f"[data-testid=resolved-{stray.tracking_number}]")
    row = page.locator(
        f"[data-testid=unexpected-{unlisted}] form:has([data-testid=do-take_in-{unlisted}])"
    )
    row.locator("input[name=phone_last4]").fill("5678")
    row.locator("input[name=flat]").fill("3-2-501")
    row.locator(f"[data-testid=carrier-{unlisted}]").select_option("yunda")
    page.click(f"[data-testid=do-take_in-{unlisted}]")
    wait_swapped(page, f"[data-testid=resolved-{unlisted}]")
    assert Parcel.objects.get(tracking_number=unlisted).carrier.code == "yunda"
    assert page.inner_text("[data-testid=missing-count]") == "0"
    assert page.inner_text("[data-testid=unexpected-count]") == "0"
    screenshot(page, f"stocktake-resolved-{language}-phone")
    page.click("[data-testid=finish]")
    page.wait_for_selector("[data-testid=summary]")
    screenshot(page, f"stocktake-report-{language}-phone")

    lost.refresh_from_db()
    stray.refresh_from_db()
    assert lost.state == ParcelState.MISSING
    assert (stray.state, stray.point_id) == (ParcelState.AT_POINT, world.counter.pk)
    assert check(world.community.pk).ok

    # Disinfection: tap the task, tap confirm.
    page.goto(f"/disinfection/point/{world.counter.pk}/")
    page.click(f"[data-testid=task-{task.pk}] summary")
    page.click(f"[data-testid=confirm-{task.pk}]")
    page.wait_for_selector(".msg-success")
    assert DisinfectionLog.objects.filter(task=task, done_by=clerk).count() == 1
    screenshot(page, f"disinfection-{language}-phone")

    admin_page = page_factory(viewport=TABLET, language=language)
    sign_in(admin_page, "st-admin")
    admin_page.goto(f"/reports/{world.community.slug}/")
    admin_page.wait_for_selector("[data-testid=kpis]")
    assert admin_page.locator("svg.chart").count() == 3
    assert "我爱我家" in admin_page.inner_text("[data-testid=points]")
    screenshot(admin_page, f"dashboard-{language}-tablet")
    admin_page.goto("/missing/")
    admin_page.click(f"text={lost.tracking_number}")
    admin_page.wait_for_selector("table")
    screenshot(admin_page, f"missing-case-{language}-tablet")
