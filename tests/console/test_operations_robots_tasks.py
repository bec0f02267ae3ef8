"""Group robots (webhook checked, secret never shown back, a test message through the outbox)
and the points' disinfection tasks, in the console."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jianjian.console.models import AuditEntry
from jianjian.notify import worker
from jianjian.notify.models import GroupRobot, Notification
from jianjian.points.models import DisinfectionTask

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123"
SECRET = "SEC0123456789abcdef0123456789"


def url(name: str, world, *args) -> str:  # type: ignore[no-untyped-def]
    return reverse(f"console:{name}", args=[world.community.slug, *args])


def robot_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "快递员群",
        "kind": "wecom",
        "purpose": "couriers",
        "webhook_url": WECOM,
        "secret": "",
        "active": "on",
    }
    data.update(overrides)
    return data


def test_admin_adds_a_robot_and_its_secret_is_never_shown_back(admin_client, world):
    data = robot_data(
        kind="dingtalk",
        webhook_url="https://oapi.dingtalk.com/robot/send?access_token=tok",
        secret=SECRET,
    )
    assert admin_client.post(url("ops-robot-add", world), data).status_code == 302
    robot = GroupRobot.objects.get(community=world.community)
    assert robot.secret == SECRET
    for page in (url("ops-robots", world), url("ops-robot", world, robot.pk)):
        html = admin_client.get(page).content.decode()
        assert SECRET not in html and "…6789" in html
    assert "access_token=tok" not in admin_client.get(url("ops-robots", world)).content.decode()
    # Saving again with the secret left blank keeps it.
    data["secret"] = ""
    data["name"] = "快递员群2"
    admin_client.post(url("ops-robot", world, robot.pk), data)
    robot.refresh_from_db()
    assert robot.secret == SECRET and robot.name == "快递员群2"
    entries = AuditEntry.objects.filter(object_type="grouprobot")
    assert entries.count() == 2 and all(SECRET not in str(e.changes) for e in entries)
    assert all("access_token" not in str(e.changes) for e in entries)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"webhook_url": "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=a"}, "https://"),
        ({"webhook_url": "https://evil.example.com/cgi-bin/webhook/send?key=a"}, "not a webhook"),
        (
            {"webhook_url": "https://qyapi.weixin.qq.com.evil.cn/cgi-bin/webhook/send"},
            "not a webhook",
        ),
        ({"kind": "feishu"}, "not a webhook"),
        ({"webhook_url": "not a url"}, "valid URL"),
        (
            {
                "kind": "dingtalk",
                "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=t",
                "secret": "nope",
            },
            "starts with SEC",
        ),
    ],
)
def test_bad_robots_are_refused(admin_client, world, overrides, message):
    response = admin_client.post(url("ops-robot-add", world), robot_data(**overrides))
    assert response.status_code == 200 and message in response.content.decode()
    assert not GroupRobot.objects.exists() and not AuditEntry.objects.exists()


def test_a_test_message_goes_through_the_outbox_and_its_result_is_shown(
    admin_client, world, monkeypatch
):
    robot = GroupRobot.objects.create(
        community=world.community, name="群", kind="wecom", webhook_url=WECOM, purpose="couriers"
    )
    response = admin_client.post(url("ops-robot-test", world, robot.pk))
    assert response.status_code == 302
    row = Notification.objects.get(robot=robot, cause="robot_test")
    assert row.channel == "wecom" and row.status == "pending"
    page = admin_client.get(response.url).content.decode()
    assert 'data-status="pending"' in page and "hx-trigger" in page
    posted = []

    def fake_post(url, payload, headers=None):  # type: ignore[no-untyped-def]
        posted.append((url, payload))
        return 200, {"errcode": 0, "errmsg": "ok"}

    monkeypatch.setattr("jianjian.notify.channels.robots.post_json", fake_post)
    worker.drain()
    assert posted and posted[0][0] == WECOM
    fragment = admin_client.get(response.url, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-status="sent"' in fragment and "hx-trigger" not in fragment
    assert "errmsg" in fragment
    assert AuditEntry.objects.filter(action="test", object_id=str(robot.pk)).exists()


def test_a_failed_test_message_shows_the_vendors_answer(admin_client, world, monkeypatch):
    robot = GroupRobot.objects.create(
        community=world.community, name="群", kind="wecom", webhook_url=WECOM, purpose="couriers"
    )
    monkeypatch.setattr(
        "jianjian.notify.channels.robots.post_json",
        lambda url, payload, headers=None: (
            200,
            {"errcode": 93000, "errmsg": "invalid webhook url"},
        ),
    )
    response = admin_client.post(url("ops-robot-test", world, robot.pk))
    worker.drain()
    page = admin_client.get(response.url).content.decode()
    assert 'data-status="failed"' in page and "invalid webhook url" in page


def test_a_robot_is_deactivated_and_then_cannot_be_tested(admin_client, world):
    robot = GroupRobot.objects.create(
        community=world.community, name="群", kind="wecom", webhook_url=WECOM, purpose="couriers"
    )
    assert admin_client.post(url("ops-robot-deactivate", world, robot.pk)).status_code == 302
    robot.refresh_from_db()
    assert not robot.active
    admin_client.post(url("ops-robot-test", world, robot.pk))
    assert not Notification.objects.exists()
    assert AuditEntry.objects.filter(action="deactivate").count() == 1


def task_data(world, **overrides: object) -> dict[str, object]:  # type: ignore[no-untyped-def]
    data: dict[str, object] = {
        "point": world.locker.pk,
        "name": "快递柜触摸屏",
        "interval_hours": 4,
        "starts_at": "08:00",
        "ends_at": "21:00",
        "default_agent": "75% 酒精",
        "active": "on",
    }
    data.update(overrides)
    return data


def test_disinfection_tasks_are_added_edited_and_deactivated(admin_client, world):
    assert admin_client.post(url("ops-task-add", world), task_data(world)).status_code == 302
    task = DisinfectionTask.objects.get(point=world.locker)
    assert task.community == world.community and task.next_due_at is not None
    assert "快递柜触摸屏" in admin_client.get(url("ops-tasks", world)).content.decode()
    admin_client.post(url("ops-task", world, task.pk), task_data(world, interval_hours=6))
    task.refresh_from_db()
    assert task.interval_hours == 6
    assert admin_client.post(url("ops-task-deactivate", world, task.pk)).status_code == 302
    task.refresh_from_db()
    assert not task.active
    assert [e.action for e in AuditEntry.objects.order_by("pk")] == [
        "create",
        "update",
        "deactivate",
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"interval_hours": 0}, "greater than or equal to 1"),
        ({"interval_hours": 5000}, "At most every 720 hours"),
        ({"starts_at": "21:00", "ends_at": "08:00"}, "must start before they end"),
        ({"name": ""}, "required"),
    ],
)
def test_bad_tasks_are_refused(admin_client, world, overrides, message):
    response = admin_client.post(url("ops-task-add", world), task_data(world, **overrides))
    assert response.status_code == 200 and message in response.content.decode()
    assert not DisinfectionTask.objects.exists() and not AuditEntry.objects.exists()


def test_a_task_cannot_be_put_on_another_communitys_point(admin_client, world, other_world):
    response = admin_client.post(
        url("ops-task-add", world), task_data(world, point=other_world.locker.pk)
    )
    assert "Select a valid choice" in response.content.decode()
    assert not DisinfectionTask.objects.exists()
