"""The people pages' forms. Every message is translated at validation time (user's language)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jianjian.communities.models import (
    Community,
    Flat,
    Resident,
    StaffRole,
    normalize_flat_code,
)
from jianjian.communities.phones import normalize_phone
from jianjian.couriers.models import Carrier
from jianjian.points.models import CollectionPoint

MAX_REMINDERS = 6
MAX_REMINDER_HOURS = 24 * 30


class CommunityForm(forms.ModelForm):
    """The community's profile and policy."""

    reminder_hours = forms.CharField(
        label=gettext_lazy("Reminders (hours after intake)"),
        help_text=gettext_lazy("Comma-separated, e.g. 24, 48. Leave empty for no reminders."),
        required=False,
    )

    class Meta:
        model = Community
        fields = [
            "name",
            "hold_days",
            "announced_expire_days",
            "overflow_release_days",
            "reminder_hours",
            "quiet_start",
            "quiet_end",
            "sms_signature",
            "default_language",
        ]
        widgets = {
            "quiet_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["reminder_hours"] = ", ".join(str(h) for h in self.instance.reminder_hours)
        self.fields["sms_signature"].help_text = _("Empty: the community's name, %(name)s.") % {
            "name": self.instance.name
        }
        self.fields["hold_days"].widget.attrs.update(min=1, max=60)
        self.fields["announced_expire_days"].widget.attrs.update(min=1, max=60)
        self.fields["overflow_release_days"].widget.attrs.update(min=1, max=30)

    def clean_reminder_hours(self) -> list[int]:
        text = self.cleaned_data.get("reminder_hours") or ""
        parts = [p for p in text.replace("，", ",").replace(" ", ",").split(",") if p.strip()]
        try:
            hours = sorted({int(p) for p in parts})
        except ValueError:
            raise ValidationError(
                _("Write whole hours separated by commas, e.g. 24, 48.")
            ) from None
        if any(h < 1 or h > MAX_REMINDER_HOURS for h in hours):
            raise ValidationError(
                _("Each reminder is between 1 and %(max)s hours.") % {"max": MAX_REMINDER_HOURS}
            )
        if len(hours) > MAX_REMINDERS:
            raise ValidationError(_("At most %(n)s reminders.") % {"n": MAX_REMINDERS})
        return hours

    def clean_hold_days(self) -> int:
        days = self.cleaned_data["hold_days"]
        if not 1 <= days <= 60:
            raise ValidationError(_("The hold period is between 1 and 60 days."))
        return int(days)

    def clean_announced_expire_days(self) -> int:
        days = self.cleaned_data["announced_expire_days"]
        if not 1 <= days <= 60:
            raise ValidationError(_("Pre-advice expires after between 1 and 60 days."))
        return int(days)

    def clean_overflow_release_days(self) -> int:
        days = self.cleaned_data["overflow_release_days"]
        if not 1 <= days <= 30:
            raise ValidationError(_("Overflow is released after between 1 and 30 days."))
        return int(days)

    def clean_sms_signature(self) -> str:
        text = (self.cleaned_data.get("sms_signature") or "").strip()
        if any(ch in text for ch in "【】[]"):
            raise ValidationError(_("Write the signature without brackets; they are added."))
        return text


class FlatForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Flat"), max_length=30, help_text=gettext_lazy("e.g. 3-2-501")
    )

    def __init__(self, community: Community, *args: Any, flat: Flat | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.community = community
        self.flat = flat
        if flat is not None and not self.is_bound:
            self.initial["code"] = flat.code

    def clean_code(self) -> str:
        code = normalize_flat_code(self.cleaned_data["code"])
        taken = Flat.objects.filter(community=self.community, code=code)
        if self.flat is not None:
            taken = taken.exclude(pk=self.flat.pk)
        if taken.exists():
            raise ValidationError(_("Flat %(flat)s already exists.") % {"flat": code})
        return code


class BuildingForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=50, required=False)


class ResidentForm(forms.ModelForm):
    flat_code = forms.CharField(
        label=gettext_lazy("Flat"), max_length=30, help_text=gettext_lazy("e.g. 3-2-501")
    )

    class Meta:
        model = Resident
        fields = ["name", "phone", "preferred_point", "locker_consent"]
        widgets = {"phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"})}

    def __init__(self, community: Community, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.community = community
        self.fields["preferred_point"].queryset = CollectionPoint.objects.filter(  # type: ignore[attr-defined]
            community=community, active=True
        ).order_by("code")
        if self.instance.pk and not self.is_bound:
            self.initial["flat_code"] = self.instance.flat.code
        self.order_fields(["flat_code", "name", "phone"])

    def clean_flat_code(self) -> Flat:
        code = normalize_flat_code(self.cleaned_data["flat_code"])
        flat = Flat.objects.filter(community=self.community, code=code).first()
        if flat is None:
            raise ValidationError(
                _("There is no flat %(flat)s; add it on the flats page first.") % {"flat": code}
            )
        return flat

    def clean_name(self) -> str:
        name = " ".join((self.cleaned_data.get("name") or "").split())
        if not name:
            raise ValidationError(_("The name is missing."))
        return name

    def clean_phone(self) -> str:
        phone = normalize_phone(self.cleaned_data.get("phone") or "")
        taken = Resident.objects.filter(community=self.community, phone=phone)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(_("Another resident of the community has this phone."))
        return phone

    def save(self, commit: bool = True) -> Resident:
        resident = super().save(commit=False)
        resident.community = self.community
        resident.flat = self.cleaned_data["flat_code"]
        if commit:
            resident.save()
        return resident


class RosterForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Roster (CSV or Excel .xlsx)"))


class ConfirmForm(forms.Form):
    import_good_rows = forms.BooleanField(
        required=False, label=gettext_lazy("Import the good rows and skip the bad ones")
    )


def _username_field() -> forms.CharField:
    return forms.CharField(
        label=gettext_lazy("User name"),
        max_length=150,
        validators=[get_user_model().username_validator],
        help_text=gettext_lazy("Letters, digits and @ . + - _ only; they sign in with it."),
    )


class StaffInviteForm(forms.Form):
    username = _username_field()
    name = forms.CharField(label=gettext_lazy("Name"), max_length=50)
    role = forms.ChoiceField(
        label=gettext_lazy("Role"),
        choices=[
            (r.value, r.label) for r in (StaffRole.CLERK, StaffRole.COMMITTEE, StaffRole.ADMIN)
        ],
        initial=StaffRole.CLERK,
    )
    points = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Points (clerks)"),
        queryset=CollectionPoint.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, community: Community, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["points"].queryset = CollectionPoint.objects.filter(  # type: ignore[attr-defined]
            community=community, active=True
        ).order_by("code")


class CourierInviteForm(forms.Form):
    carrier = forms.ModelChoiceField(
        label=gettext_lazy("Carrier"), queryset=Carrier.objects.order_by("code")
    )
    name = forms.CharField(label=gettext_lazy("Name"), max_length=50)
    phone = forms.CharField(
        label=gettext_lazy("Phone"), max_length=20, widget=forms.TextInput(attrs={"type": "tel"})
    )
    username = _username_field()

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data.get("phone") or "")
