"""The couriers' group board: each morning every point's room today (and which points are
closed), and a word the moment a point fills up, so each day's deliveries go where there is room.

Posted to the community's active group robots with the couriers' purpose. Each message is claimed
by a :class:`BoardPost` row unique per (community, local day, kind), written in the transaction
that queues the message: a sweep run again, or by a second worker at the same moment, posts
nothing twice, and a crash before the commit leaves it to post on the next run.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction

from jianjian import clock
from jianjian.communities.models import Community
from jianjian.notify import outbox
from jianjian.notify.messages import day_text, render
from jianjian.notify.models import BoardPost, GroupRobot, RobotPurpose
from jianjian.points.models import CollectionPoint, PointKind
from jianjian.points.room import Room, rooms

BOARD = "board"


def sweep_boards(now: dt.datetime) -> int:
    """Post what is due on every community's couriers' board; return the messages queued."""
    robots: dict[int, list[GroupRobot]] = defaultdict(list)
    for robot in GroupRobot.objects.filter(
        active=True, purpose=RobotPurpose.COURIERS
    ).select_related("community"):
        robots[robot.community_id].append(robot)
    return sum(_community_board(bots[0].community, bots, now) for bots in robots.values())


def _community_board(community: Community, bots: Sequence[GroupRobot], now: dt.datetime) -> int:
    local = now.astimezone(ZoneInfo(community.time_zone))
    day = local.date()
    posted = set(
        BoardPost.objects.filter(community=community, day=day).values_list("kind", flat=True)
    )
    points = list(CollectionPoint.objects.filter(community=community).order_by("code"))
    open_today = {p.pk: _hours(p, day) for p in points}
    full = [p for p in points if open_today[p.pk] and f"full:{p.pk}" not in posted]
    morning = BOARD not in posted and local.time() >= community.quiet_end
    if not morning and not full:
        return 0
    room = rooms(points, now)
    queued = 0
    if morning:
        queued += _post_once(community, day, BOARD, bots, board_text(community, day, points, room))
    for point in full:
        if room[point.pk].today() == 0:
            text = render(
                "point_full",
                settings.LANGUAGE_CODE,
                community=community.name,
                point=point.name,
                date=day_text(day, settings.LANGUAGE_CODE),
            )
            queued += _post_once(community, day, f"full:{point.pk}", bots, text)
    return queued


def _hours(point: CollectionPoint, day: dt.date) -> str:
    """The point's opening hours on ``day`` (``09:00–20:30``), or '' when it is closed."""
    hours = point.hours_on(day) if point.active else None
    if hours is None:
        return ""
    return f"{hours[0]:%H:%M}–{hours[1]:%H:%M}"


def board_text(
    community: Community, day: dt.date, points: Sequence[CollectionPoint], room: dict[int, Room]
) -> str:
    language = settings.LANGUAGE_CODE
    lines = [
        render("board_title", language, community=community.name, date=day_text(day, language))
    ]
    for point in points:
        hours = _hours(point, day)
        base = {"code": point.code, "point": point.name, "hours": hours}
        if not hours:
            lines.append(render("board_closed", language, **base))
        elif point.kind == PointKind.LOCKER:
            free = room[point.pk].compartments
            sizes = {k.lower(): free.get(k, 0) for k in ("S", "M", "L")}
            lines.append(
                render("board_locker", language, room=room[point.pk].today(), **base, **sizes)
            )
        else:
            lines.append(render("board_line", language, room=room[point.pk].today(), **base))
    return "\n".join(lines)


def _post_once(
    community: Community, day: dt.date, kind: str, bots: Sequence[GroupRobot], text: str
) -> int:
    with transaction.atomic():
        try:
            with transaction.atomic():
                BoardPost.objects.create(community=community, day=day, kind=kind, at=clock.now())
        except IntegrityError:
            return 0  # another worker posted it first
        return sum(
            outbox.to_robot(bot, "board", f"board:{kind}:{day.isoformat()}:{bot.pk}", text)
            for bot in bots
        )
