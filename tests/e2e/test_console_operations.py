"""In headless Chromium: a community admin sets up a counter with hours, 10 × 5 shelves and
capacity 50, closes it for two days, issues an API token (shown once, and it works), adds a
couriers' robot and sends it a test message. Then a screenshot of every operations page in both
languages at phone and tablet widths (docs/screenshots/console-ops-*)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from jianjian.communities.models import Membership, StaffRole
from jianjian.couriers.models import ApiToken
from jianjian.notify import worker
from jianjian.notify.models import GroupRobot, Notification
from jianjian.points.models import CollectionPoint, PointClosure, Slot
from tests.e2e.conftest import PHONE, TABLET, screenshot, wait_swapped
from tests.factories import make_world

PASSWORD = "a-long-password-7"
WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=demo-key"


def sign_in(page, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(lambda url: "/login/" not in url)


def set_up(page, world) -> CollectionPoint:  # type: ignore[no-untyped-def]
    base = f"/console/{world.community.slug}"
    page.goto(f"{base}/points/add/")
    page.select_option("select[name=kind]", "counter")
    page.fill("input[name=name]", "东门小超市")
    page.fill("input[name=code]", "C")
    page.fill("input[name=host_shop]", "老王超市")
    page.fill("input[name=daily_capacity]", "50")
    for day in range(6):
        page.fill(f"input[name=d{day}_opens]", "09:00")
        page.fill(f"input[name=d{day}_closes]", "20:30")
    page.check("input[name=d6_closed]")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=point-C]")
    point = CollectionPoint.objects.get(community=world.community, code="C")
    assert point.daily_capacity == 50 and point.hours[0] == ["09:00", "20:30"]
    assert point.hours[6] is None

    page.goto(f"{base}/points/{point.pk}/slots/")
    page.fill("input[name=shelves]", "10")
    page.fill("input[name=tiers]", "5")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=slot-counts] strong:text-is('50')")
    assert Slot.objects.filter(point=point, active=True).count() == 50
    return point


def close_for_two_days(page, world, point) -> None:  # type: ignore[no-untyped-def]
    today = dt.datetime.now(ZoneInfo(world.community.time_zone)).date()
    page.goto(f"/console/{world.community.slug}/points/{point.pk}/closures/")
    page.fill("input[name=starts_on]", today.isoformat())
    page.fill("input[name=ends_on]", (today + dt.timedelta(days=1)).isoformat())
    page.fill("input[name=reason]", "店内装修")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=closures] td:has-text('店内装修')")
    assert PointClosure.objects.filter(point=point, reason="店内装修").exists()


def issue_token(page, world, courier) -> str:  # type: ignore[no-untyped-def]
    page.goto(f"/console/{world.community.slug}/tokens/add/")
    page.fill("input[name=name]", "顺丰扫描枪")
    page.select_option("select[name=role]", "courier")
    page.select_option("select[name=courier]", str(courier.pk))
    page.click("button[type=submit]")
    secret = page.inner_text("[data-testid=secret]").strip()
    assert secret.startswith("jj_")
    answer = Client().get("/api/v1/points", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert answer.status_code == 200
    return secret


def robot_test_message(page, world, monkeypatch) -> GroupRobot:  # type: ignore[no-untyped-def]
    page.goto(f"/console/{world.community.slug}/robots/add/")
    page.fill("input[name=name]", "快递员群")
    page.select_option("select[name=kind]", "wecom")
    page.select_option("select[name=purpose]", "couriers")
    page.fill("input[name=webhook_url]", WECOM)
    page.click("button[type=submit]")
    robot = GroupRobot.objects.get(community=world.community)
    page.wait_for_selector(f"[data-testid=robot-{robot.pk}]")
    page.click(f"[data-testid=robot-{robot.pk}] form[action$='/test/'] button")
    page.wait_for_selector("[data-testid=robot-message][data-status=pending]")
    # The worker delivers it (the vendor answers "ok"); the page polls until it shows the result.
    monkeypatch.setattr(
        "jianjian.notify.channels.robots.post_json",
        lambda url, payload, headers=None: (200, {"errcode": 0, "errmsg": "ok"}),
    )
    worker.drain()
    wait_swapped(page, "[data-testid=robot-message][data-status=sent]")
    assert Notification.objects.get(robot=robot, cause="robot_test").status == "sent"
    return robot


@pytest.mark.django_db(transaction=True)
def test_admin_sets_up_a_counter_closes_it_issues_a_token_and_tests_a_robot(
    page_factory, monkeypatch
):
    world = make_world()
    User = get_user_model()
    admin = User.objects.create_user("ops-admin", password=PASSWORD)
    Membership.objects.create(user=admin, community=world.community, role=StaffRole.ADMIN)
    courier = world.sf_courier
    courier.user = User.objects.create_user("ops-courier", password=PASSWORD)
    courier.save()
    courier.communities.add(world.community)

    page = page_factory(viewport=PHONE, language="zh-hans")
    sign_in(page, "ops-admin")
    point = set_up(page, world)
    close_for_two_days(page, world, point)
    secret = issue_token(page, world, courier)
    robot = robot_test_message(page, world, monkeypatch)
    # The secret is never on a page again.
    page.goto(f"/console/{world.community.slug}/tokens/")
    assert secret not in page.content()

    token = ApiToken.objects.get(name="顺丰扫描枪")
    task_id = world.counter.disinfection_tasks.create(community=world.community, name="柜台台面").pk
    message = Notification.objects.get(robot=robot, cause="robot_test")
    base = f"/console/{world.community.slug}"
    shots = {
        "points": f"{base}/points/",
        "point": f"{base}/points/{point.pk}/",
        "slots": f"{base}/points/{point.pk}/slots/",
        "closures": f"{base}/points/{point.pk}/closures/",
        "distances": f"{base}/points/{point.pk}/distances/",
        "tasks": f"{base}/disinfection/",
        "task": f"{base}/disinfection/{task_id}/",
        "robots": f"{base}/robots/",
        "robot": f"{base}/robots/{robot.pk}/",
        "robot-message": f"{base}/robots/{robot.pk}/messages/{message.pk}/",
        "tokens": f"{base}/tokens/",
        "token-issue": f"{base}/tokens/add/",
    }
    assert token.active
    for language in ("zh-hans", "en"):
        for width, viewport in (("phone", PHONE), ("tablet", TABLET)):
            shot = page_factory(viewport=viewport, language=language)
            sign_in(shot, "ops-admin")
            for name, address in shots.items():
                shot.goto(address)
                shot.wait_for_selector("h1")
                screenshot(shot, f"console-ops-{name}-{language}-{width}")
