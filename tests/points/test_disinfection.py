"""Disinfection schedule with time travel: due, overdue, opening hours, a log done early, and the
admin told through the outbox once per missed occurrence."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jianjian.communities.models import Membership, StaffRole
from jianjian.notify.models import Notification
from jianjian.points import disinfection
from jianjian.points.models import DisinfectionLog

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, 7, day, hour, minute, tzinfo=SH)


def screen_task(world, every: int = 4):  # type: ignore[no-untyped-def]
    with time_machine.travel(local(1, 8), tick=False):
        return disinfection.setup_task(
            world.locker,
            "锁柜触摸屏",
            interval_hours=every,
            starts_at=dt.time(8),
            ends_at=dt.time(20),
            default_agent="75% alcohol",
        )


def test_a_new_task_is_first_due_one_interval_after_it_is_set_up(world):
    task = screen_task(world)
    assert task.next_due_at == local(1, 12)
    with time_machine.travel(local(1, 8, 5), tick=False):
        assert not disinfection.is_overdue(task, disinfection.clock.now())
        log = disinfection.log_done(task, user=None, label="clerk")
    assert log.on_time and log.due_at == local(1, 12)  # done right after setting it up
    assert log.agent == "75% alcohol"
    task.refresh_from_db()
    assert task.next_due_at == local(1, 12, 5)
    with time_machine.travel(local(1, 12), tick=False):
        assert not disinfection.is_overdue(task, disinfection.clock.now())
    with time_machine.travel(local(1, 12, 6), tick=False):
        assert disinfection.is_overdue(task, disinfection.clock.now())
        status = disinfection.point_status(world.locker)
        assert [(s.task.pk, s.overdue) for s in status] == [(task.pk, True)]


def test_a_task_created_outside_the_service_gets_its_first_due_time_too(world):
    from jianjian.points.models import DisinfectionTask

    with time_machine.travel(local(1, 9), tick=False):
        task = DisinfectionTask.objects.create(
            community=world.community,
            point=world.counter,
            name="门把手",
            interval_hours=6,
            starts_at=dt.time(8),
            ends_at=dt.time(20),
            created_at=local(1, 9),
        )
    assert task.next_due_at == local(1, 15)


def test_a_first_due_time_past_the_hours_moves_to_the_next_morning(world):
    with time_machine.travel(local(1, 18), tick=False):
        task = disinfection.setup_task(
            world.counter, "货架", interval_hours=4, starts_at=dt.time(8), ends_at=dt.time(20)
        )
    assert task.next_due_at == local(2, 8)


def test_a_due_time_outside_the_hours_moves_to_the_next_opening(world):
    task = screen_task(world)
    with time_machine.travel(local(1, 18), tick=False):
        disinfection.log_done(task, user=None, label="clerk")
    task.refresh_from_db()
    # 18:00 + 4 h = 22:00, after the 20:00 end: due when the window opens next morning.
    assert task.next_due_at == local(2, 8)
    with time_machine.travel(local(1, 23), tick=False):
        assert not disinfection.is_overdue(task, disinfection.clock.now())
    with time_machine.travel(local(2, 8, 1), tick=False):
        assert disinfection.is_overdue(task, disinfection.clock.now())


def test_a_task_set_up_at_night_counts_its_interval_from_the_morning(world):
    with time_machine.travel(local(3, 22), tick=False):
        task = disinfection.setup_task(world.counter, "柜台", interval_hours=4)
    assert task.next_due_at == local(4, 12)  # the schedule starts at 08:00, due 4 h later


def test_a_log_done_early_restarts_the_interval_from_when_it_was_done(world):
    task = screen_task(world)
    with time_machine.travel(local(1, 8), tick=False):
        disinfection.log_done(task, user=None, label="clerk")
    with time_machine.travel(local(1, 10), tick=False):  # due at 12:00, done at 10:00
        early = disinfection.log_done(task, user=None, label="clerk", agent="84 disinfectant")
    assert early.on_time and early.due_at == local(1, 12)
    assert early.agent == "84 disinfectant"
    task.refresh_from_db()
    assert task.next_due_at == local(1, 14)


def test_overdue_tasks_reach_the_admins_once_per_missed_occurrence(world):
    admin = get_user_model().objects.create_user("admin7", email="admin@example.org")
    Membership.objects.create(user=admin, community=world.community, role=StaffRole.ADMIN)
    task = screen_task(world)
    with time_machine.travel(local(1, 9), tick=False):
        assert disinfection.alert_overdue() == 0  # first due at 12:00
    with time_machine.travel(local(1, 13), tick=False):
        assert disinfection.alert_overdue() == 1
        # The sweep runs again: no second message, and no insert refused by the unique key (each
        # would be an error line in PostgreSQL's log, every tick, as long as the task is late).
        with CaptureQueriesContext(connection) as again:
            assert disinfection.alert_overdue() == 0
        assert not [q for q in again if q["sql"].lstrip().upper().startswith("INSERT")]
    note = Notification.objects.get(cause="disinfection_overdue")
    assert note.address == "admin@example.org"
    assert "锁柜触摸屏" in note.body and "07-01 12:00" in note.body
    with time_machine.travel(local(1, 13, 30), tick=False):
        disinfection.log_done(task, user=None, label="clerk")
    with time_machine.travel(local(1, 17), tick=False):
        assert disinfection.alert_overdue() == 0  # due 17:30, not yet overdue
    with time_machine.travel(local(1, 18), tick=False):
        assert disinfection.alert_overdue() == 1  # the next missed occurrence
    assert Notification.objects.filter(cause="disinfection_overdue").count() == 2


def test_a_photo_is_kept_under_the_data_dir(world, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    task = screen_task(world)
    photo = SimpleUploadedFile("screen.jpg", b"\xff\xd8\xff fake jpeg", content_type="image/jpeg")
    with time_machine.travel(local(1, 8), tick=False):
        log = disinfection.log_done(task, user=None, label="clerk", photo=photo)
    stored = DisinfectionLog.objects.get(pk=log.pk).photo
    assert (tmp_path / stored.name).read_bytes() == b"\xff\xd8\xff fake jpeg"


def test_bad_hours_are_refused(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        disinfection.setup_task(
            world.counter, "x", interval_hours=4, starts_at=dt.time(20), ends_at=dt.time(8)
        )
    with pytest.raises(ValidationError):
        disinfection.setup_task(world.counter, "y", interval_hours=0)


def test_the_sweep_command_queues_the_alert_once(world):
    import io

    from django.core.management import call_command

    admin = get_user_model().objects.create_user("admin7b", email="a7@example.org")
    Membership.objects.create(user=admin, community=world.community, role=StaffRole.ADMIN)
    screen_task(world)
    with time_machine.travel(local(1, 13), tick=False):
        out = io.StringIO()
        call_command("disinfection_alerts", stdout=out)
        call_command("disinfection_alerts", stdout=io.StringIO())
    assert out.getvalue().startswith("1 ")
    assert Notification.objects.filter(cause="disinfection_overdue").count() == 1


def test_the_notification_worker_raises_the_alert_without_cron(world):
    """`jianjian worker` (and so `jianjian serve`) runs the disinfection alert with its sweeps."""
    from jianjian.notify.sweeps import run_sweeps

    admin = get_user_model().objects.create_user("admin7c", email="a7c@example.org")
    Membership.objects.create(user=admin, community=world.community, role=StaffRole.ADMIN)
    screen_task(world)
    run_sweeps(local(1, 13))
    run_sweeps(local(1, 13, 5))
    assert Notification.objects.filter(cause="disinfection_overdue").count() == 1
