"""Forms of the counter. They only shape and bound input; the services decide everything else."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from jianjian.parcels.labels import LAYOUTS, THERMAL
from jianjian.parcels.lifecycle.scan import Scan


class ScanForm(forms.Form):
    """One intake scan, with what the clerk adds when the parcel is not pre-advised."""

    number = forms.CharField(label=_("Tracking number"), max_length=60)
    last4 = forms.CharField(label=_("Phone's last 4 digits"), max_length=4, required=False)
    flat = forms.CharField(label=_("Flat"), max_length=20, required=False)
    phone = forms.CharField(label=_("Full phone"), max_length=30, required=False)
    override_reason = forms.CharField(
        label=_("Reason to take it in anyway"), max_length=200, required=False
    )
    # The carrier the clerk tapped when the number fits several.
    carrier = forms.SlugField(max_length=20, required=False)

    def scan(self) -> Scan:
        """The scan as the lifecycle takes it (call once the form is valid)."""
        data = self.cleaned_data
        return Scan(
            tracking_number=data["number"],
            phone=data["phone"],
            phone_last4=data["last4"],
            flat=data["flat"],
            override_reason=data["override_reason"],
            carrier=data["carrier"],
        )


class LookupForm(forms.Form):
    q = forms.CharField(label=_("QR code, pickup code or phone's last 4 digits"), max_length=400)


class HandOverForm(forms.Form):
    parcel = forms.TypedMultipleChoiceField(coerce=int, choices=(), required=False)
    proxy = forms.IntegerField(required=False)
    proxy_phone = forms.CharField(label=_("Proxy's phone"), max_length=30, required=False)
    method = forms.CharField(max_length=12, required=False)
    q = forms.CharField(max_length=400, required=False)

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        # Any id is acceptable as input; the services check each one belongs to this point.
        self.fields["parcel"].valid_value = lambda value: True  # type: ignore[attr-defined]


class ReturnScanForm(forms.Form):
    REASONS = (("dead", _("past the hold period")), ("refused", _("refused by the recipient")))
    courier = forms.IntegerField(label=_("Collecting courier"))
    reason = forms.ChoiceField(label=_("Reason"), choices=REASONS, initial="dead")
    number = forms.CharField(label=_("Scan the parcel"), max_length=60)


class OnHandFilter(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=60, required=False)
    carrier = forms.CharField(label=_("Carrier"), max_length=20, required=False)
    flat = forms.CharField(label=_("Flat"), max_length=20, required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)


class LabelLayoutForm(forms.Form):
    layout = forms.ChoiceField(choices=[(v, v) for v in LAYOUTS], required=False, initial=THERMAL)
