"""Disinfection schedule (消杀): when each task is due, logging it done, and the overdue alert.

A task is due ``interval_hours`` after it was last done (or, never done, after its schedule first
applies once set up), but only inside its daily hours: a due time that falls outside them moves to the next opening of
the window. A log done early restarts the interval from the moment it was done. A task is overdue
once its due time has passed without a log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext as _

from jianjian import clock
from jianjian.communities.models import Membership, StaffRole
from jianjian.notify import outbox
from jianjian.notify.models import Notification
from jianjian.points.models import CollectionPoint, DisinfectionLog, DisinfectionTask


def within_hours(task: DisinfectionTask, moment: dt.datetime) -> dt.datetime:
    """``moment`` if it lies inside the task's daily hours, else the next start of the window."""
    tz = ZoneInfo(task.community.time_zone)
    local = moment.astimezone(tz)
    start = dt.datetime.combine(local.date(), task.starts_at, tzinfo=tz)
    end = dt.datetime.combine(local.date(), task.ends_at, tzinfo=tz)
    if local < start:
        return start
    if local <= end:
        return moment
    return dt.datetime.combine(local.date() + dt.timedelta(days=1), task.starts_at, tzinfo=tz)


def next_due(task: DisinfectionTask, last_done: dt.datetime | None) -> dt.datetime:
    """When the task is next due: one interval after it was last done, or — never done — one
    interval after its schedule first applies (set up at night, that is the next morning), so
    the first log right after setting a task up is on time, not late from the start."""
    start = last_done if last_done is not None else within_hours(task, task.created_at)
    return within_hours(task, start + dt.timedelta(hours=task.interval_hours))


def is_overdue(task: DisinfectionTask, now: dt.datetime) -> bool:
    return task.next_due_at is not None and now > task.next_due_at


@dataclass
class TaskStatus:
    task: DisinfectionTask
    next_due_at: dt.datetime
    overdue: bool
    last: DisinfectionLog | None


def point_status(point: CollectionPoint, now: dt.datetime | None = None) -> list[TaskStatus]:
    """Every active task of ``point`` with its next due time, most urgent first."""
    now = now or clock.now()
    tasks = list(
        DisinfectionTask.objects.filter(point=point, active=True).select_related("community")
    )
    last: dict[int, DisinfectionLog] = {}
    for log in DisinfectionLog.objects.filter(task__in=tasks).order_by("task_id", "-done_at"):
        last.setdefault(log.task_id, log)
    out = []
    for task in tasks:
        due = task.next_due_at or next_due(task, None)
        out.append(TaskStatus(task, due, now > due, last.get(task.pk)))
    return sorted(out, key=lambda s: s.next_due_at)


def setup_task(
    point: CollectionPoint,
    name: str,
    *,
    interval_hours: int,
    starts_at: dt.time = dt.time(8, 0),
    ends_at: dt.time = dt.time(21, 0),
    default_agent: str = "",
) -> DisinfectionTask:
    task = DisinfectionTask(
        community_id=point.community_id,
        point=point,
        name=name,
        interval_hours=interval_hours,
        starts_at=starts_at,
        ends_at=ends_at,
        default_agent=default_agent,
        created_at=clock.now(),
    )
    task.full_clean(exclude=["community", "point"])
    task.next_due_at = next_due(task, None)
    task.save()
    return task


@transaction.atomic
def log_done(
    task: DisinfectionTask,
    *,
    user: User | None,
    label: str = "",
    agent: str = "",
    photo: UploadedFile | None = None,
) -> DisinfectionLog:
    """Record the task done now and move its due time on from this moment."""
    task = DisinfectionTask.objects.select_for_update().select_related("community").get(pk=task.pk)
    now = clock.now()
    due = task.next_due_at or next_due(task, None)
    log = DisinfectionLog(
        community_id=task.community_id,
        point_id=task.point_id,
        task=task,
        done_at=now,
        done_by=user,
        done_by_label=(label or (user.get_username() if user else ""))[:100],
        agent=(agent.strip() or task.default_agent)[:100],
        due_at=due,
        on_time=now <= due,
    )
    if photo is not None:
        log.photo.save(photo.name or "photo.jpg", photo, save=False)
    log.save()
    task.next_due_at = next_due(task, now)
    task.save(update_fields=["next_due_at"])
    return log


def overdue_tasks(now: dt.datetime, community_id: int | None = None) -> QuerySet[DisinfectionTask]:
    tasks = DisinfectionTask.objects.filter(active=True, next_due_at__lt=now)
    if community_id is not None:  # the worker's sweep, one community at a time
        tasks = tasks.filter(community_id=community_id)
    return tasks.select_related("point", "community")


def alert_overdue(now: dt.datetime | None = None, community_id: int | None = None) -> int:
    """Tell each community's admins about overdue tasks through the outbox.

    The dedup key names the task and the due time it missed, so the admins hear once about each
    missed occurrence however often the sweep runs. Returns the number of messages queued.
    """
    now = now or clock.now()
    queued = 0
    for task in overdue_tasks(now, community_id):
        due_local = task.next_due_at.astimezone(ZoneInfo(task.community.time_zone))  # type: ignore[union-attr]
        with translation.override(settings.LANGUAGE_CODE):
            body = _(
                "[%(community)s] Disinfection overdue at %(point)s: %(task)s was due at %(due)s."
            ) % {
                "community": task.community.name,
                "point": task.point.name,
                "task": task.name,
                "due": f"{due_local:%m-%d %H:%M}",
            }
        admins = Membership.objects.filter(
            community_id=task.community_id, role=StaffRole.ADMIN
        ).select_related("user")
        keys = {
            m.user_id: f"disinfection:{task.pk}:{task.next_due_at:%Y%m%d%H%M}:{m.user_id}"
            for m in admins
        }
        # A task stays overdue until it is logged, so every tick finds it again: the admins told
        # already are skipped here rather than left to the unique key (an error in the
        # database's log on each tick). The key still settles two workers racing.
        told = set(
            Notification.objects.filter(
                community_id=task.community_id, dedup_key__in=list(keys.values())
            ).values_list("dedup_key", flat=True)
        )
        for membership in admins:
            if keys[membership.user_id] in told:
                continue
            with transaction.atomic():
                row = outbox.enqueue(
                    parcel=None,
                    community_id=task.community_id,
                    cause="disinfection_overdue",
                    dedup_key=keys[membership.user_id],
                    address=membership.user.email,
                    body=body,
                )
            queued += row is not None
    return queued
