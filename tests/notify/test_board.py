"""The couriers' group board: the morning room of every point (closures named), and a word when
a point fills up — each once per community and day, however many sweeps or workers run."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from jianjian.notify import board
from jianjian.notify.models import BoardPost, GroupRobot, Notification
from jianjian.notify.sweeps import run_sweeps
from jianjian.parcels import services
from jianjian.points.models import CollectionPoint
from tests.factories import tracking

pytestmark = pytest.mark.django_db

EARLY = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)  # 07:30 on 2 March in Shanghai
MORNING = dt.datetime(2026, 3, 2, 0, 30, tzinfo=dt.UTC)  # 08:30 in Shanghai, after quiet hours


def _robot(world, purpose: str = "couriers", name: str = "快递员群") -> GroupRobot:
    return GroupRobot.objects.create(
        community=world.community,
        name=name,
        kind="wecom",
        webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
        purpose=purpose,
    )


def _posts(robot: GroupRobot) -> list[str]:
    return list(
        Notification.objects.filter(robot=robot).order_by("pk").values_list("body", flat=True)
    )


def test_the_morning_board_lists_each_points_room_once_a_day(world):
    robot = _robot(world)
    with time_machine.travel(EARLY, tick=False):
        assert board.sweep_boards(EARLY) == 0  # quiet hours: not yet
    with time_machine.travel(MORNING, tick=False):
        assert board.sweep_boards(MORNING) == 1
        assert board.sweep_boards(MORNING + dt.timedelta(hours=3)) == 0
    (text,) = _posts(robot)
    assert text.startswith(f"【{world.community.name}】3月2日各代收点今日余量：")
    assert "A 我爱我家：还可收 50 件，营业时间09:00–20:00" in text
    # The locker's room is its free compartments, not its daily capacity of 50.
    assert "L 快递柜：还可收 3 件（空格口 小 1 · 中 1 · 大 1）" in text
    with time_machine.travel(MORNING + dt.timedelta(days=1), tick=False):
        assert board.sweep_boards(MORNING + dt.timedelta(days=1)) == 1  # the next day's


def test_a_closed_point_is_named_closed(world, monkeypatch):
    robot = _robot(world)

    open_hours = CollectionPoint.hours_on

    def hours_on(point, day):  # type: ignore[no-untyped-def]
        return None if point.code == "B" else open_hours(point, day)

    monkeypatch.setattr(CollectionPoint, "hours_on", hours_on)
    with time_machine.travel(MORNING, tick=False):
        board.sweep_boards(MORNING)
    (text,) = _posts(robot)
    assert "B 链家：今日休息" in text and "B 链家：还可收" not in text


def test_a_point_filling_up_is_told_once(world):
    robot = _robot(world)
    world.counter.daily_capacity = 2
    world.counter.save()
    with time_machine.travel(MORNING, tick=False):
        board.sweep_boards(MORNING)  # the morning board
        for _ in range(2):
            services.intake(
                world.counter, tracking(), actor=world.clerk, phone=world.residents[0].phone
            )
        assert board.sweep_boards(MORNING) == 1
        assert board.sweep_boards(MORNING) == 0
    full = _posts(robot)[-1]
    assert full == f"【{world.community.name}】我爱我家今日已满（3月2日），请将包裹送往其他代收点。"


def test_every_couriers_robot_gets_it_and_no_other_robot(world):
    first, second = _robot(world), _robot(world, name="第二群")
    committee = _robot(world, purpose="committee", name="业委会群")
    with time_machine.travel(MORNING, tick=False):
        assert board.sweep_boards(MORNING) == 2
    assert len(_posts(first)) == len(_posts(second)) == 1
    assert _posts(committee) == []


def test_a_second_worker_claiming_the_same_board_posts_nothing(world):
    robot = _robot(world)
    day = dt.date(2026, 3, 2)
    with time_machine.travel(MORNING, tick=False):
        assert board._post_once(world.community, day, "board", [robot], "x") == 1
        assert board._post_once(world.community, day, "board", [robot], "x") == 0
    assert BoardPost.objects.filter(community=world.community, day=day).count() == 1
    assert len(_posts(robot)) == 1


def test_the_worker_loop_runs_the_board(world):
    robot = _robot(world)
    with time_machine.travel(MORNING, tick=False):
        run_sweeps(MORNING)
        run_sweeps(MORNING + dt.timedelta(seconds=2))
    assert len(_posts(robot)) == 1
