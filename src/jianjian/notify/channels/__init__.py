"""Delivery channels. Each is one small class with ``send(notification) -> provider answer``.

A channel raises :class:`TemporaryFailure` for what a retry may fix (network, rate limit) and
:class:`PermanentFailure` for what it cannot (bad address, rejected template).
"""

from __future__ import annotations

from typing import Protocol

from jianjian.notify.models import Notification


class TemporaryFailure(Exception):
    pass


class PermanentFailure(Exception):
    pass


class ChannelBackend(Protocol):
    def send(self, notification: Notification) -> str: ...


def get_channel(name: str) -> ChannelBackend:
    from jianjian.notify.channels.email import EmailChannel
    from jianjian.notify.channels.log import LogChannel

    channels: dict[str, type] = {"log": LogChannel, "email": EmailChannel}
    try:
        return channels[name]()  # type: ignore[no-any-return]
    except KeyError:
        raise PermanentFailure(f"no channel named {name!r} is configured") from None
