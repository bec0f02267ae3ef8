"""What the operations pages share: the community's local day and a form's errors as one line."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError

from jianjian import clock
from jianjian.communities.models import Community


def local_today(community: Community) -> dt.date:
    return clock.now().astimezone(ZoneInfo(community.time_zone)).date()


def add_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form it came from (per field when it names one)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)
