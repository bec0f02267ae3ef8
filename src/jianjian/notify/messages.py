"""Message texts, rendered in the recipient's language when the notification is queued."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone, translation
from django.utils.translation import gettext as _


def _templates() -> dict[str, str]:
    # Built on each call so gettext runs under the language activated by render().
    return {
        "intake": _(
            "[%(community)s] Your parcel (…%(tail)s) is at %(point)s, open %(hours)s. "
            "Pickup code %(code)s. Please collect it by %(deadline)s."
        ),
        "moved": _(
            "[%(community)s] Your parcel (…%(tail)s) has moved to %(point)s, open %(hours)s. "
            "New pickup code %(code)s."
        ),
        "collected": _(
            "[%(community)s] Your parcel (…%(tail)s) was collected by %(holder)s at %(time)s."
        ),
        "returned": _(
            "[%(community)s] Your parcel (…%(tail)s) was not collected in time and has gone back "
            "to %(carrier)s."
        ),
    }


def render(cause: str, language: str, **context: Any) -> str:
    with translation.override(language):
        return _templates()[cause] % context


def local_time(at: dt.datetime, tz: str, fmt: str = "%m-%d %H:%M") -> str:
    return timezone.localtime(at, ZoneInfo(tz)).strftime(fmt)
