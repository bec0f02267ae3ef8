"""Admins set a community's robots and residents' channels in the admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jianjian.notify.models import GroupRobot


@pytest.mark.django_db
def test_admin_adds_a_committee_robot_and_its_digest_is_scheduled(admin_client, world):
    page = admin_client.post(
        reverse("admin:notify_grouprobot_add"),
        {
            "community": world.community.pk,
            "name": "业委会群",
            "kind": "dingtalk",
            "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=x",
            "secret": "SECabc",
            "purpose": "committee",
            "active": "on",
        },
    )
    assert page.status_code == 302
    robot = GroupRobot.objects.get()
    assert robot.next_digest_at is not None and robot.next_digest_at.minute == 0


@pytest.mark.django_db
def test_admin_rejects_a_dingtalk_secret_that_is_not_one(admin_client, world):
    page = admin_client.post(
        reverse("admin:notify_grouprobot_add"),
        {
            "community": world.community.pk,
            "name": "x",
            "kind": "dingtalk",
            "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=x",
            "secret": "wrong",
            "purpose": "committee",
        },
    )
    assert page.status_code == 200 and not GroupRobot.objects.exists()
    assert "SEC" in page.content.decode()


@pytest.mark.django_db
def test_preferences_and_robots_pages_open(admin_client):
    for name in (
        "admin:notify_residentpreference_changelist",
        "admin:notify_grouprobot_changelist",
    ):
        assert admin_client.get(reverse(name)).status_code == 200
