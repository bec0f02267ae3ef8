"""Who reaches the operations pages: a community's admins only, and only their own objects.
Everyone else gets 404 on every page and every object, for reading and for writing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from jianjian.communities.models import StaffRole
from jianjian.console.models import AuditEntry
from jianjian.couriers.tokens import create_token
from jianjian.notify.models import GroupRobot, Notification
from jianjian.points.models import DisinfectionTask, PointClosure
from tests.console.conftest import make_staff

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"


def objects_of(world):  # type: ignore[no-untyped-def]
    """One of each object the operations pages show, in ``world``'s community."""
    community = world.community
    closure = PointClosure.objects.create(
        community=community,
        point=world.counter,
        starts_on="2099-01-01",
        ends_on="2099-01-02",
        reason="x",
    )
    task = DisinfectionTask.objects.create(community=community, point=world.locker, name="屏幕")
    robot = GroupRobot.objects.create(
        community=community, name="群", kind="wecom", webhook_url=WECOM, purpose="couriers"
    )
    message = Notification.objects.create(
        community=community,
        robot=robot,
        dedup_key=f"t:{robot.pk}",
        cause="robot_test",
        channel="wecom",
        address="群",
        body="hi",
    )
    token, _raw = create_token("t", role="integration", communities=[community])
    return world.counter, closure, task, robot, message, token


def pages(world, objs):  # type: ignore[no-untyped-def]
    """(method, url) of every operations page and action of ``world``'s community."""
    point, closure, task, robot, message, token = objs
    slug = world.community.slug

    def u(name: str, *args) -> str:  # type: ignore[no-untyped-def]
        return reverse(f"console:{name}", args=[slug, *args])

    return [
        ("get", u("ops-points")),
        ("get", u("ops-point-add")),
        ("post", u("ops-point-add")),
        ("get", u("ops-point", point.pk)),
        ("post", u("ops-point", point.pk)),
        ("get", u("ops-closures", point.pk)),
        ("post", u("ops-closures", point.pk)),
        ("post", u("ops-closure-end", point.pk, closure.pk)),
        ("get", u("ops-slots", point.pk)),
        ("post", u("ops-slots", point.pk)),
        ("get", u("ops-distances", point.pk)),
        ("post", u("ops-distances", point.pk)),
        ("get", u("ops-tasks")),
        ("get", u("ops-task-add")),
        ("get", u("ops-task", task.pk)),
        ("post", u("ops-task", task.pk)),
        ("post", u("ops-task-deactivate", task.pk)),
        ("get", u("ops-robots")),
        ("get", u("ops-robot-add")),
        ("get", u("ops-robot", robot.pk)),
        ("post", u("ops-robot", robot.pk)),
        ("post", u("ops-robot-deactivate", robot.pk)),
        ("post", u("ops-robot-test", robot.pk)),
        ("get", u("ops-robot-message", robot.pk, message.pk)),
        ("get", u("ops-tokens")),
        ("get", u("ops-token-add")),
        ("post", u("ops-token-add")),
        ("post", u("ops-token-revoke", token.pk)),
    ]


def test_the_admin_reaches_every_page(client, world, admin_a):
    objs = objects_of(world)
    client.force_login(admin_a)
    for method, address in pages(world, objs):
        if method == "get":
            assert client.get(address).status_code == 200, address


def test_admin_of_another_community_gets_404_everywhere(client, world, admin_b):
    objs = objects_of(world)
    client.force_login(admin_b)
    for method, address in pages(world, objs):
        assert getattr(client, method)(address).status_code == 404, (method, address)
    assert not AuditEntry.objects.exists()


def test_objects_of_another_community_are_404_under_ones_own_console(
    client, world, admin_a, other_world
):
    """Admin A puts community B's object ids in A's own console addresses."""
    theirs = pages(world, objects_of(other_world))
    mine = {a for _m, a in pages(world, objects_of(world))}
    client.force_login(admin_a)
    for method, address in theirs:
        if address in mine:  # pages without an object id are A's own
            continue
        assert getattr(client, method)(address).status_code == 404, (method, address)
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("role", ["clerk", "committee", "courier", "resident"])
def test_other_roles_get_404_everywhere(client, world, role):
    objs = objects_of(world)
    if role in (StaffRole.CLERK, StaffRole.COMMITTEE):
        user = make_staff(world.community, role, f"u-{role}")
    else:
        user = get_user_model().objects.create_user(f"u-{role}", password="pw-for-tests")
        if role == "courier":
            world.sf_courier.user = user
            world.sf_courier.save()
            world.sf_courier.communities.add(world.community)
        else:
            world.residents[0].user = user
            world.residents[0].save()
    client.force_login(user)
    for method, address in pages(world, objs):
        assert getattr(client, method)(address).status_code == 404, (method, address)
    assert not AuditEntry.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    for _method, address in pages(world, objects_of(world)):
        response = client.get(address)
        assert response.status_code in (302, 405) and (
            response.status_code == 405 or "/login/" in response.url
        )
