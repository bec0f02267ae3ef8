"""Message texts, rendered in the recipient's language when the notification is queued.

Every cause has a text (for the log file, email and group robots) and, for SMS, the list of
template parameters the provider's registered template takes (SMS providers in China send only
pre-approved templates: ``SMS_PARAMS`` names each template's variables in order; Alibaba Cloud
gets them as a JSON object, Tencent Cloud as an ordered list).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# Lazy: each text is translated when render() uses it, under the language it activates (and
# only that text: a message is rendered for every parcel taken in).
_TEMPLATES: dict[str, Promise] = {
    # Resident texts follow what phones' SMS apps read off a pickup message: 取件码 + the code,
    # 已到 + the place, 运单尾号 + the tracking number's last four digits (尾号 alone reads as a
    # phone's tail) and the deadline as M月D日HH:MM.
    "intake": gettext_lazy(
        "[%(community)s] Your parcel (tracking number ending %(tail)s) is at %(point)s, "
        "pickup code %(code)s, open %(hours)s. Please collect it by %(deadline)s."
    ),
    "moved": gettext_lazy(
        "[%(community)s] Your parcel (tracking number ending %(tail)s) has moved and is now "
        "at %(point)s, new pickup code %(code)s, open %(hours)s. Please collect it by "
        "%(deadline)s."
    ),
    "collected": gettext_lazy(
        "[%(community)s] Your parcel (tracking number ending %(tail)s) was collected at "
        "%(time)s by %(holder)s."
    ),
    "returned": gettext_lazy(
        "[%(community)s] Your parcel (tracking number ending %(tail)s) was not collected in "
        "time and has gone back to %(carrier)s."
    ),
    "reminder": gettext_lazy(
        "[%(community)s] Reminder: your parcel (tracking number ending %(tail)s) is at "
        "%(point)s and has waited %(age)s, pickup code %(code)s, open %(hours)s. Please "
        "collect it by %(deadline)s."
    ),
    "dead": gettext_lazy(
        "[%(community)s] Your parcel (tracking number ending %(tail)s) at %(point)s was not "
        "collected within %(days)s days and will go back to %(carrier)s. If you still want "
        "it, collect it by %(deadline)s with pickup code %(code)s (open %(hours)s)."
    ),
    # Pre-advice that ended without the parcel reaching a point (the resident saw it "on its
    # way" on their page): where it went, or why the points no longer expect it.
    "elsewhere_door": gettext_lazy(
        "[%(community)s] Your parcel (tracking number ending %(tail)s) was delivered to your "
        "door at %(time)s by the %(carrier)s courier; it will not come to a collection point."
    ),
    "elsewhere_neighbour": gettext_lazy(
        "[%(community)s] Your parcel (tracking number ending %(tail)s) was left at %(time)s by "
        "the %(carrier)s courier with your neighbour %(holder)s; please collect it there."
    ),
    "cancelled": gettext_lazy(
        "[%(community)s] The pre-advice of your parcel (tracking number ending %(tail)s) was "
        "cancelled by %(carrier)s; it will not come to a collection point."
    ),
    "expired": gettext_lazy(
        "[%(community)s] Your parcel (tracking number ending %(tail)s) has not reached a "
        "collection point within %(days)s days of its pre-advice, and the points no longer "
        "expect it. If it is still on its way, please ask %(carrier)s."
    ),
    "released": gettext_lazy(
        "[%(community)s] The collection points have had no room for your parcel (tracking "
        "number ending %(tail)s) for %(days)s days, so it will not be dropped at a point. "
        "Please arrange its delivery with %(carrier)s."
    ),
    # The courier (and the couriers' group) hear once a day which of their pre-advice ended.
    "preadvice_ended_courier": gettext_lazy(
        "[%(community)s] %(date)s: %(count)s of your announced parcels are off the drop plan — "
        "not arrived within %(days)s days, or no room at any point for %(release)s days. "
        "Deliver the ones you hold otherwise: %(numbers)s"
    ),
    "dead_courier": gettext_lazy(
        "[%(community)s] Parcel %(number)s (%(carrier)s) was not collected within %(days)s "
        "days. Please take it back from %(point)s (open %(hours)s), slot %(slot)s."
    ),
    # The couriers' group: each morning every point's room today, and a point filling up.
    "board_title": gettext_lazy("[%(community)s] Room at the collection points today, %(date)s:"),
    "board_line": gettext_lazy("%(code)s %(point)s: room for %(room)s, open %(hours)s"),
    "board_locker": gettext_lazy(
        "%(code)s %(point)s: room for %(room)s (free compartments S %(s)s · M %(m)s · "
        "L %(l)s), open %(hours)s"
    ),
    "board_closed": gettext_lazy("%(code)s %(point)s: closed today"),
    "point_full": gettext_lazy(
        "[%(community)s] %(point)s is full for today (%(date)s): please take its parcels to "
        "another point."
    ),
    "digest_title": gettext_lazy(
        "[%(community)s] Parcels waiting more than %(hours)s hours, %(date)s: "
        "%(count)s parcels in %(flats)s flats. Please remind your neighbours."
    ),
    "digest_line": gettext_lazy("%(flat)s %(name)s: %(count)s parcels, oldest %(days)s days"),
}


# The registered SMS template's variables, in the order they appear in the template (Tencent
# Cloud takes them positionally as {1}, {2}, …; Alibaba Cloud by name as ${name}). Each piece is
# its own variable, so a template can put 取件码, 已到, 运单尾号 and the deadline where phones read
# them; the README lists the template texts to register.
SMS_PARAMS: dict[str, tuple[str, ...]] = {
    "intake": ("tail", "point", "code", "hours", "deadline"),
    "moved": ("tail", "point", "code", "hours", "deadline"),
    "collected": ("tail", "time", "holder"),
    "returned": ("tail", "carrier"),
    "elsewhere_door": ("tail", "time", "carrier"),
    "elsewhere_neighbour": ("tail", "time", "carrier", "holder"),
    "cancelled": ("tail", "carrier"),
    "expired": ("tail", "days", "carrier"),
    "released": ("tail", "days", "carrier"),
    "preadvice_ended_courier": ("date", "count", "days", "release", "numbers"),
    "reminder": ("tail", "point", "age", "code", "hours", "deadline"),
    "dead": ("tail", "point", "days", "carrier", "deadline", "code", "hours"),
    "dead_courier": ("number", "point", "slot", "days"),
    "signin_code": ("code",),
    "proxy_granted": ("name", "flat"),
    "case_answered": ("id",),
}
# Registered templates are Chinese, so their variables are the Chinese pieces (12月9日20:30,
# 2天) whatever language the resident reads the other channels in.
SMS_LANGUAGE = "zh-hans"
# Alibaba Cloud takes 1 to 35 characters per variable; a longer value (a long point name)
# would make the provider refuse the whole message, so it is shortened instead.
SMS_PARAM_MAX = 35

# Causes whose text is a secret: once delivered (or given up), the outbox keeps no copy of it.
SECRET_CAUSES = frozenset({"signin_code"})
# Causes the person asked for this very moment: never held back for quiet hours.
IMMEDIATE_CAUSES = frozenset({"signin_code"})


def render(cause: str, language: str, **context: Any) -> str:
    with translation.override(language):
        return str(_TEMPLATES[cause]) % context


def sms_params(cause: str, context: dict[str, Any]) -> dict[str, str]:
    return {name: _fit(str(context.get(name, ""))) for name in SMS_PARAMS.get(cause, ())}


def _fit(value: str) -> str:
    return value if len(value) <= SMS_PARAM_MAX else value[: SMS_PARAM_MAX - 1] + "…"


_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_text(day: dt.date, language: str) -> str:
    """A day as people write it: ``12月9日`` in Chinese, ``9 Dec`` in English."""
    if language.lower().startswith("zh"):
        return f"{day.month}月{day.day}日"
    return f"{day.day} {_MONTHS_EN[day.month - 1]}"


@functools.lru_cache(maxsize=1024)  # a pure function, asked the same for a batch's messages
def deadline_text(at: dt.datetime, tz: str, language: str) -> str:
    """A deadline as people write it: ``12月9日20:30`` in Chinese, ``20:30 on 9 Dec`` in English.

    Built by hand rather than with strftime so the month does not depend on the C locale and the
    Chinese day and month carry no leading zero (SMS apps read ``M月D日HH:MM``)."""
    local = timezone.localtime(at, ZoneInfo(tz))
    if language.lower().startswith("zh"):
        return f"{local.month}月{local.day}日{local:%H:%M}"
    return f"{local:%H:%M} on {local.day} {_MONTHS_EN[local.month - 1]}"


def age_text(age: dt.timedelta, language: str) -> str:
    hours = int(age.total_seconds() // 3600)
    with translation.override(language):
        if hours < 48:
            return _("%(n)s hours") % {"n": hours}
        return _("%(n)s days") % {"n": hours // 24}


def local_time(at: dt.datetime, tz: str, fmt: str = "%m-%d %H:%M") -> str:
    return timezone.localtime(at, ZoneInfo(tz)).strftime(fmt)


def split_for_robot(text: str, limit_bytes: int) -> list[str]:
    """Split ``text`` into parts of at most ``limit_bytes`` UTF-8 bytes, at line ends where it
    can (a digest is one flat per line), never inside a character. Parts after the first are
    numbered so the group can tell they belong together."""
    if len(text.encode()) <= limit_bytes:
        return [text]
    room = limit_bytes - 16  # for the "(2/3) " prefix
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate.encode()) <= room:
            current = candidate
            continue
        if current:
            parts.append(current)
        while len(line.encode()) > room:  # one over-long line: cut it at a character boundary
            cut = line.encode()[:room].decode(errors="ignore")
            parts.append(cut)
            line = line[len(cut) :]
        current = line
    if current:
        parts.append(current)
    total = len(parts)
    return [f"({i}/{total}) {part}" for i, part in enumerate(parts, start=1)]
