"""Group-chat robots: WeCom (企业微信), DingTalk (钉钉) and Feishu (飞书) custom robots.

Each posts a ``text`` message to the robot's webhook as its vendor documents it:

- WeCom: ``POST {webhook}`` ``{"msgtype": "text", "text": {"content": …}}``; content at most
  2048 bytes (UTF-8); 20 messages a minute per robot; answers ``{"errcode": 0, "errmsg": "ok"}``,
  ``errcode`` 45009 when over the limit.
- DingTalk: ``POST {webhook}&timestamp={ms}&sign={sign}`` with the same body shape, where
  ``sign = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")))``; 20
  messages a minute per robot (over it, the robot is throttled for 10 minutes: errcode 130101 or
  410100). DingTalk documents no byte limit for text we could confirm; we split at 4000 bytes.
- Feishu: ``POST {webhook}`` ``{"timestamp": "{s}", "sign": …, "msg_type": "text",
  "content": {"text": …}}`` where ``sign = base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}",
  msg=b""))``; body at most 20 KB; 100 messages a minute and 5 a second per robot; answers
  ``{"code": 0, "msg": "success"}``, code 11232 when rate limited.

The worker keeps each robot under its limit by counting the robot's recent posts in
:class:`~jianjian.notify.models.RobotSend` (inside a transaction that locks the robot row, so
several workers share one budget), and defers a message to when the window has room.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import time
import urllib.parse
from typing import Any

from django.db import transaction

from jianjian.notify.channels import PermanentFailure, RateLimited, TemporaryFailure
from jianjian.notify.channels.http import post_json
from jianjian.notify.models import GroupRobot, Notification, RobotKind, RobotSend

# (messages, per seconds) windows each robot must stay within.
RATE_LIMITS: dict[str, tuple[tuple[int, int], ...]] = {
    RobotKind.WECOM: ((20, 60),),
    RobotKind.DINGTALK: ((20, 60),),
    RobotKind.FEISHU: ((100, 60), (5, 1)),
}

# Largest text we send in one message, in UTF-8 bytes.
SIZE_LIMITS: dict[str, int] = {
    RobotKind.WECOM: 2048,
    RobotKind.DINGTALK: 4000,
    # 20 KB for the whole JSON body; leave room for the envelope and JSON escaping.
    RobotKind.FEISHU: 18000,
}


def size_limit(kind: str) -> int:
    return SIZE_LIMITS.get(kind, 2048)


def take_turn(robot_id: int, kind: str, now: dt.datetime) -> dt.datetime | None:
    """Book a send for the robot now if every window has room (return None); otherwise return
    the moment the fullest window frees a place. Several workers share the budget: the robot
    row is locked while counting and booking."""
    with transaction.atomic():
        GroupRobot.objects.select_for_update().filter(pk=robot_id).values_list("pk").first()
        wait_until: dt.datetime | None = None
        for limit, seconds in RATE_LIMITS.get(kind, ()):
            since = now - dt.timedelta(seconds=seconds)
            recent = list(
                RobotSend.objects.filter(robot_id=robot_id, at__gt=since)
                .order_by("-at")
                .values_list("at", flat=True)[:limit]
            )
            if len(recent) >= limit:
                free_at = recent[-1] + dt.timedelta(seconds=seconds)
                wait_until = max(wait_until or free_at, free_at)
        if wait_until is not None:
            return wait_until
        RobotSend.objects.create(robot_id=robot_id, at=now)
        # Keep the ledger short: nothing older than the longest window is ever counted.
        RobotSend.objects.filter(robot_id=robot_id, at__lt=now - dt.timedelta(minutes=10)).delete()
    return None


# A robot whose webhook is this address writes its messages to the notification log instead of
# posting them (``.invalid`` never resolves, RFC 2606): the demo's robots, and a community trying
# robots out before it has a group.
LOG_WEBHOOK = "https://log.invalid/"


def _logged(robot: GroupRobot, notification: Notification) -> str | None:
    if not robot.webhook_url.startswith(LOG_WEBHOOK):
        return None
    from jianjian.notify.channels.log import LogChannel

    return LogChannel().send(notification)


def _robot(notification: Notification) -> GroupRobot:
    robot = notification.robot
    if robot is None:
        raise PermanentFailure("a robot message without a robot")
    if not robot.active:
        raise PermanentFailure(f"robot {robot.name} is switched off")
    return robot


def _check(answer: dict[str, Any], code_field: str, rate_codes: set[int], throttle: float) -> str:
    code = answer.get(code_field, answer.get("StatusCode"))
    if code == 0:
        return json.dumps(answer, ensure_ascii=False)[:500]
    message = json.dumps(answer, ensure_ascii=False)[:500]
    if code in rate_codes:
        raise RateLimited(message, retry_after=throttle)
    if code is None or code == -1:  # -1: "system busy" in WeCom's and DingTalk's tables
        raise TemporaryFailure(message)
    raise PermanentFailure(message)


class WeComRobot:
    def send(self, notification: Notification) -> str:
        robot = _robot(notification)
        if (logged := _logged(robot, notification)) is not None:
            return logged
        payload = {"msgtype": "text", "text": {"content": notification.body}}
        _status, answer = post_json(robot.webhook_url, payload)
        return _check(answer, "errcode", {45009}, throttle=60)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


class DingTalkRobot:
    def send(self, notification: Notification) -> str:
        robot = _robot(notification)
        if (logged := _logged(robot, notification)) is not None:
            return logged
        url = robot.webhook_url
        if robot.secret:
            ts = int(time.time() * 1000)
            sign = urllib.parse.quote_plus(dingtalk_sign(robot.secret, ts))
            url = f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={sign}"
        payload = {"msgtype": "text", "text": {"content": notification.body}}
        _status, answer = post_json(url, payload)
        # Over 20 a minute DingTalk throttles the robot for ten minutes.
        return _check(answer, "errcode", {130101, 410100}, throttle=600)


def feishu_sign(secret: str, timestamp_s: int) -> str:
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


class FeishuRobot:
    def send(self, notification: Notification) -> str:
        robot = _robot(notification)
        if (logged := _logged(robot, notification)) is not None:
            return logged
        payload: dict[str, Any] = {"msg_type": "text", "content": {"text": notification.body}}
        if robot.secret:
            ts = int(time.time())
            payload = {"timestamp": str(ts), "sign": feishu_sign(robot.secret, ts), **payload}
        _status, answer = post_json(robot.webhook_url, payload)
        return _check(answer, "code", {11232}, throttle=60)
