"""Delivery channels. Each is one small class with ``send(notification) -> provider answer``.

A channel raises :class:`TemporaryFailure` for what a retry may fix (network, a 5xx),
:class:`RateLimited` when the provider (or our own count of a robot's messages) says "slow
down" — the worker retries later without spending an attempt — and :class:`PermanentFailure`
for what no retry can fix (bad address, rejected template, wrong signature secret).

Channels: ``log`` (a file, the embedded default), ``email`` (Django's email backend: SMTP),
``sms`` (the provider chosen by ``JIANJIAN_SMS_PROVIDER``: ``log``, ``aliyun`` or ``tencent``;
see :mod:`jianjian.notify.channels.sms`), and the group robots ``wecom``, ``dingtalk`` and
``feishu`` (:mod:`jianjian.notify.channels.robots`).
"""

from __future__ import annotations

from typing import Protocol

from jianjian.notify.models import Notification


class TemporaryFailure(Exception):
    pass


class PermanentFailure(Exception):
    pass


class RateLimited(TemporaryFailure):
    def __init__(self, message: str, retry_after: float = 60.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ChannelBackend(Protocol):
    def send(self, notification: Notification) -> str: ...


def get_channel(name: str) -> ChannelBackend:
    from jianjian.notify.channels.email import EmailChannel
    from jianjian.notify.channels.log import LogChannel
    from jianjian.notify.channels.robots import DingTalkRobot, FeishuRobot, WeComRobot
    from jianjian.notify.channels.sms import SmsChannel

    channels: dict[str, type] = {
        "log": LogChannel,
        "email": EmailChannel,
        "sms": SmsChannel,
        "wecom": WeComRobot,
        "dingtalk": DingTalkRobot,
        "feishu": FeishuRobot,
    }
    try:
        return channels[name]()  # type: ignore[no-any-return]
    except KeyError:
        raise PermanentFailure(f"no channel named {name!r} is configured") from None
