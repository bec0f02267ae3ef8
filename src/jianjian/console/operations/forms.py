"""The operations section's forms: points and their hours, closures, slots, distances,
disinfection tasks, group robots and API tokens. Each form checks what a careless or hostile
admin may send and says what is wrong in the admin's language."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from jianjian.communities.models import Building, Community, Membership, StaffRole
from jianjian.couriers.models import Carrier, Courier, TokenRole
from jianjian.notify.models import GroupRobot, RobotKind
from jianjian.points import slots
from jianjian.points.models import (
    WEEKDAYS as DAYS,
)
from jianjian.points.models import (
    CollectionPoint,
    DisinfectionTask,
    SlotSize,
    parse_day,
)

TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MAX_CAPACITY = 100_000


class PointForm(forms.ModelForm):
    """A point with its opening hours, one row per weekday (``d0_opens`` … ``d6_closed``)."""

    class Meta:
        model = CollectionPoint
        fields = ["kind", "name", "code", "host_shop", "daily_capacity", "building", "active"]

    def __init__(self, *args: Any, community: Community, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.community = community
        building = self.fields["building"]
        assert isinstance(building, forms.ModelChoiceField)
        building.queryset = Building.objects.filter(community=community).order_by("number")
        self.fields["daily_capacity"].widget.attrs.update(min=0, max=MAX_CAPACITY)
        self.fields["code"].widget.attrs.update(autocapitalize="characters", maxlength=2)
        week = self.instance.hours if self.instance.pk else None
        for i in range(DAYS):
            try:
                day = parse_day(week[i]) if week else (dt.time(8, 0), dt.time(21, 0))
            except (ValueError, IndexError, TypeError):
                day = None
            self.fields[f"d{i}_opens"] = forms.TimeField(
                label=WEEKDAYS[i], required=False, widget=TIME, initial=day and day[0]
            )
            self.fields[f"d{i}_closes"] = forms.TimeField(
                label=WEEKDAYS[i], required=False, widget=TIME, initial=day and day[1]
            )
            self.fields[f"d{i}_closed"] = forms.BooleanField(
                label=pgettext_lazy("opening hours", "closed"), required=False, initial=day is None
            )

    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.Meta.fields]

    def day_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [
            (str(WEEKDAYS[i]), self[f"d{i}_opens"], self[f"d{i}_closes"], self[f"d{i}_closed"])
            for i in range(DAYS)
        ]

    def clean_code(self) -> str:
        code = (self.cleaned_data.get("code") or "").strip().upper()
        taken = CollectionPoint.objects.filter(community=self.community, code=code)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(
                gettext("Another point of this community has the code %s.") % code
            )
        return code

    def clean_daily_capacity(self) -> int:
        capacity = self.cleaned_data["daily_capacity"]
        if capacity > MAX_CAPACITY:
            raise ValidationError(
                gettext("A point takes at most %(max)s parcels a day.") % {"max": MAX_CAPACITY}
            )
        return int(capacity)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        week: list[list[str] | None] = []
        for i in range(DAYS):
            opens, closes = data.get(f"d{i}_opens"), data.get(f"d{i}_closes")
            if data.get(f"d{i}_closed"):
                week.append(None)
                continue
            if opens is None or closes is None:
                self.add_error(
                    f"d{i}_opens",
                    gettext("%(day)s: enter the opening and closing times, or tick closed.")
                    % {"day": WEEKDAYS[i]},
                )
                continue
            if closes <= opens:
                self.add_error(
                    f"d{i}_closes",
                    gettext("%(day)s: the closing time must come after the opening time.")
                    % {"day": WEEKDAYS[i]},
                )
                continue
            week.append([f"{opens:%H:%M}", f"{closes:%H:%M}"])
        if len(week) == DAYS:
            self.instance.hours = week
        return data


class ClosureForm(forms.Form):
    starts_on = forms.DateField(label=_("closed from"), widget=DATE)
    ends_on = forms.DateField(label=_("closed until (inclusive)"), widget=DATE)
    reason = forms.CharField(label=_("reason"), max_length=200)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("starts_on"), data.get("ends_on")
        if first and last and last < first:
            self.add_error("ends_on", gettext("The closure must end on or after it starts."))
        return data


class ShelvesForm(forms.Form):
    shelves = forms.IntegerField(label=_("shelves"), min_value=1)
    tiers = forms.IntegerField(label=_("tiers per shelf"), min_value=1)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("shelves") and data.get("tiers"):
            slots.check_shelves(data["shelves"], data["tiers"])
        return data


class CompartmentsForm(forms.Form):
    small = forms.IntegerField(label=_("small (S)"), min_value=0, initial=0)
    medium = forms.IntegerField(label=_("medium (M)"), min_value=0, initial=0)
    large = forms.IntegerField(label=_("large (L)"), min_value=0, initial=0)

    def sizes(self) -> dict[str, int]:
        data = self.cleaned_data
        return {SlotSize.S: data["small"], SlotSize.M: data["medium"], SlotSize.L: data["large"]}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if all(data.get(k) is not None for k in ("small", "medium", "large")):
            slots.check_compartments(self.sizes())
        return data


MAX_DISTANCE = 1_000_000


class DistancesForm(forms.Form):
    """One optional number per building: how far it is from the point (blank: not listed)."""

    def __init__(
        self, *args: Any, buildings: list[Building], current: dict[int, int], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.buildings = buildings
        for b in buildings:
            self.fields[f"b{b.pk}"] = forms.IntegerField(
                label=str(b),
                required=False,
                min_value=0,
                max_value=MAX_DISTANCE,
                initial=current.get(b.pk),
            )

    def rows(self) -> list[tuple[Building, forms.BoundField]]:
        return [(b, self[f"b{b.pk}"]) for b in self.buildings]

    def wanted(self) -> dict[int, int | None]:
        return {b.pk: self.cleaned_data.get(f"b{b.pk}") for b in self.buildings}


class TaskForm(forms.ModelForm):
    class Meta:
        model = DisinfectionTask
        fields = [
            "point",
            "name",
            "interval_hours",
            "starts_at",
            "ends_at",
            "default_agent",
            "active",
        ]
        widgets = {"starts_at": TIME, "ends_at": TIME}

    def __init__(self, *args: Any, community: Community, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        point = self.fields["point"]
        assert isinstance(point, forms.ModelChoiceField)
        point.queryset = CollectionPoint.objects.filter(community=community).order_by("code")
        self.fields["interval_hours"].widget.attrs.update(min=1, max=24 * 30)

    def clean_interval_hours(self) -> int:
        hours = self.cleaned_data["interval_hours"]
        if hours > 24 * 30:
            raise ValidationError(gettext("At most every 720 hours (30 days)."))
        return int(hours)


# Where each vendor's custom robots post, as the vendors document their webhook addresses.
ROBOT_HOSTS: dict[str, tuple[tuple[str, str], ...]] = {
    RobotKind.WECOM: (("qyapi.weixin.qq.com", "/cgi-bin/webhook/send"),),
    RobotKind.DINGTALK: (("oapi.dingtalk.com", "/robot/send"),),
    RobotKind.FEISHU: (
        ("open.feishu.cn", "/open-apis/bot/v2/hook/"),
        ("open.larksuite.com", "/open-apis/bot/v2/hook/"),
    ),
}


def check_webhook(kind: str, url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https":
        raise ValidationError(gettext("A robot's webhook address must start with https://."))
    allowed = ROBOT_HOSTS.get(kind, ())
    host = (parts.hostname or "").lower()
    if (
        parts.port not in (None, 443)
        or parts.username
        or parts.password
        or not any(host == h and parts.path.startswith(p) for h, p in allowed)
    ):
        example = ", ".join(f"https://{h}{p}…" for h, p in allowed)
        raise ValidationError(
            gettext("This is not a webhook address of that kind of robot; it looks like %(ex)s")
            % {"ex": example}
        )


def masked(secret: str) -> str:
    """Enough of a secret to recognise it, never enough to use it."""
    if not secret:
        return ""
    return f"…{secret[-4:]}" if len(secret) >= 12 else "…"


class RobotForm(forms.ModelForm):
    class Meta:
        model = GroupRobot
        fields = ["name", "kind", "purpose", "webhook_url", "secret", "active"]
        widgets = {
            "webhook_url": forms.URLInput(attrs={"inputmode": "url"}),
            "secret": forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.old_secret = self.instance.secret if self.instance.pk else ""
        if self.old_secret:
            self.fields["secret"].help_text = gettext(
                "Stored (%(mask)s). Leave blank to keep it; type a new one to replace it."
            ) % {"mask": masked(self.old_secret)}
        self.fields["webhook_url"].widget.attrs["autocomplete"] = "off"

    def clean_secret(self) -> str:
        secret = (self.cleaned_data.get("secret") or "").strip()
        return secret or self.old_secret

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        url, kind = data.get("webhook_url"), data.get("kind")
        if url and kind:
            try:
                check_webhook(kind, url)
            except ValidationError as exc:
                self.add_error("webhook_url", exc)
        return data


# Roles an admin issues tokens for from the console: the community's couriers, carrier
# systems, and clerks. Resident and admin tokens stay with the command line.
CONSOLE_TOKEN_ROLES = [
    (TokenRole.COURIER.value, TokenRole.COURIER.label),
    (TokenRole.INTEGRATION.value, TokenRole.INTEGRATION.label),
    (TokenRole.CLERK.value, TokenRole.CLERK.label),
]


class TokenForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100, help_text=_("e.g. SF scanner #2"))
    role = forms.ChoiceField(label=_("role"), choices=CONSOLE_TOKEN_ROLES)
    courier = forms.ModelChoiceField(
        label=_("courier"), queryset=Courier.objects.none(), required=False
    )
    carrier = forms.ModelChoiceField(
        label=_("carrier"), queryset=Carrier.objects.all(), required=False
    )
    clerk = forms.ModelChoiceField(
        label=_("clerk"), queryset=get_user_model().objects.none(), required=False
    )
    read_only = forms.BooleanField(label=_("read only"), required=False)

    def __init__(self, *args: Any, community: Community, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        courier = self.fields["courier"]
        clerk = self.fields["clerk"]
        assert isinstance(courier, forms.ModelChoiceField)
        assert isinstance(clerk, forms.ModelChoiceField)
        courier.queryset = (
            Courier.objects.filter(communities=community, active=True, user__isnull=False)
            .select_related("carrier")
            .order_by("carrier__code", "name")
        )
        clerk.queryset = (
            get_user_model()
            .objects.filter(
                pk__in=Membership.objects.filter(community=community, role=StaffRole.CLERK).values(
                    "user_id"
                ),
                is_active=True,
            )
            .order_by("username")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        role = data.get("role")
        needs = {
            TokenRole.COURIER: ("courier", gettext("Choose the courier this token acts for.")),
            TokenRole.INTEGRATION: ("carrier", gettext("Choose the carrier whose system uses it.")),
            TokenRole.CLERK: ("clerk", gettext("Choose the clerk this token acts for.")),
        }
        if role in needs:
            field, message = needs[role]
            if not data.get(field):
                self.add_error(field, message)
        return data
