"""Forms of the resident pages. Domain checks live in the services; these check shape only."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from jianjian.notify.models import Channel
from jianjian.residents.models import CaseKind


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile phone number"),
        max_length=30,
        widget=forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel", "autofocus": True}
        ),
    )


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=_("6-digit code"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("The code is 6 digits.")},
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "maxlength": 6,
                "autofocus": True,
            }
        ),
    )


class ProxyForm(forms.Form):
    phone = forms.CharField(
        label=_("Their mobile phone number"),
        max_length=30,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )
    name = forms.CharField(label=_("Their name (optional)"), max_length=50, required=False)
    parcel = forms.TypedChoiceField(
        label=_("For"), coerce=int, required=False, empty_value=None, choices=()
    )
    days = forms.IntegerField(
        label=_("Days (when for all parcels)"), min_value=1, max_value=30, required=False
    )

    def __init__(self, *args, parcels=(), **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        parcel_field = self.fields["parcel"]
        assert isinstance(parcel_field, forms.ChoiceField)
        parcel_field.choices = [("", _("all my parcels, for some days"))] + [
            (p.pk, _("parcel …%(tail)s") % {"tail": p.tracking_number[-4:]}) for p in parcels
        ]

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean() or {}
        if data.get("parcel") is None and not data.get("days"):
            self.add_error("days", _("For all parcels, say for how many days."))
        return data


def offered_channels() -> list[tuple[str, str | Promise]]:
    """The channels a resident may choose here, with their labels.

    SMS (the channel the community reaches every resident on) and email (with an address). The
    log file is a development stand-in: offered only while this installation itself writes
    residents' messages to the log (``JIANJIAN_NOTIFY_CHANNEL=log``, the embedded default) or runs
    in debug mode, never as a way for a resident to silence their messages in production.
    """
    offered: list[tuple[str, str | Promise]] = [
        (Channel.SMS.value, _("SMS to my phone")),
        (Channel.EMAIL.value, _("Email")),
    ]
    if settings.DEBUG or settings.NOTIFY_DEFAULT_CHANNEL == Channel.LOG:
        offered.append((Channel.LOG.value, _("Log file (test installations only)")))
    return offered


class PreferencesForm(forms.Form):
    channels = forms.MultipleChoiceField(
        label=_("Tell me about my parcels by"),
        widget=forms.CheckboxSelectMultiple,
        choices=(),
        error_messages={
            "required": _("Choose at least one way to be told about your parcels."),
            "invalid_choice": _("%(value)s is not a channel this community offers."),
        },
    )
    email = forms.EmailField(
        label=_("Email address"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email"}),
    )
    language = forms.ChoiceField(label=_("Language of the messages"), choices=())
    preferred_point = forms.TypedChoiceField(
        label=_("Preferred collection point"),
        coerce=int,
        required=False,
        empty_value=None,
        choices=(),
    )
    locker_consent = forms.BooleanField(label=_("Parcels may go to a locker"), required=False)
    quiet_start = forms.TimeField(
        label=_("No messages from"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    quiet_end = forms.TimeField(
        label=_("until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )

    def __init__(self, *args, points=(), **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        channel_field = self.fields["channels"]
        assert isinstance(channel_field, forms.MultipleChoiceField)
        channel_field.choices = offered_channels()
        language_field = self.fields["language"]
        assert isinstance(language_field, forms.ChoiceField)
        language_field.choices = list(settings.LANGUAGES)
        point_field = self.fields["preferred_point"]
        assert isinstance(point_field, forms.ChoiceField)
        point_field.choices = [("", _("no preference"))] + [
            (p.pk, f"{p.name} ({p.opening_hours})") for p in points
        ]

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean() or {}
        wants_email = Channel.EMAIL in (data.get("channels") or [])
        # A malformed address already has its own message; a missing one gets this.
        if wants_email and not data.get("email") and "email" not in self.errors:
            self.add_error("email", _("Enter the email address to write to."))
        start, end = data.get("quiet_start"), data.get("quiet_end")
        if (start is None) != (end is None):
            self.add_error("quiet_end", _("Give both times, or neither."))
        elif start is not None and start == end:
            self.add_error("quiet_end", _("Start and end must differ."))
        return data


class CaseForm(forms.Form):
    kind = forms.ChoiceField(label=_("What went wrong"), choices=CaseKind.choices)
    description = forms.CharField(
        label=_("What happened"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )


class AnswerForm(forms.Form):
    text = forms.CharField(
        label=_("Answer to the resident"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    close = forms.BooleanField(label=_("Close the case with this answer"), required=False)


class LinkForm(forms.Form):
    """Ask to be added to a flat: which community (when the phone has parcels in several)."""

    community = forms.TypedChoiceField(label=_("Community"), coerce=int, choices=())
    flat = forms.CharField(
        label=_("Your flat"),
        max_length=30,
        help_text=_("Building-entrance-flat, e.g. 3-2-501."),
    )
    name = forms.CharField(label=_("Your name"), max_length=50)

    def __init__(self, *args, communities=(), **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        field = self.fields["community"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(c.pk, c.name) for c in communities]
