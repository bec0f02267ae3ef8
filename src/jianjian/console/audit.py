"""Writing the console's audit log. Every console change calls :func:`record` in the same
transaction as the change itself, so the log and the data cannot disagree."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable
from typing import Any

from django import forms
from django.db import models, transaction

from jianjian import clock
from jianjian.communities.models import Community
from jianjian.console.models import AuditEntry


def _plain(value: Any) -> Any:
    """A JSON-safe rendering of a field's value for the log."""
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, list | tuple | set | models.QuerySet):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def changes_of(form: forms.ModelForm, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """``{field: [before, after]}`` for the fields a bound, valid model form changed."""
    names = [f for f in (fields or form.changed_data) if f in form.changed_data]
    return {
        name: [_plain(form.initial.get(name)), _plain(form.cleaned_data.get(name))]
        for name in names
    }


def record(
    user: Any,
    community: Community,
    action: str,
    summary: str,
    obj: models.Model | None = None,
    changes: dict[str, Any] | None = None,
    object_type: str = "",
) -> AuditEntry:
    """Append one entry. ``action`` is a short verb (``create``, ``update``, ``deactivate``,
    ``import``, ``revoke`` …); ``summary`` a sentence a person reads in the log."""
    return AuditEntry.objects.create(
        community=community,
        user=user if getattr(user, "pk", None) else None,
        username=user.get_username() if getattr(user, "pk", None) else str(user or "system"),
        at=clock.now(),
        action=action,
        object_type=object_type or (str(obj._meta.model_name) if obj is not None else ""),
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        summary=summary[:300],
        changes={k: _plain(v) for k, v in (changes or {}).items()},
    )


def deactivate(user: Any, community: Community, obj: Any, action: str, summary: str) -> None:
    """Switch ``obj`` off (``active = False``) and log it, in one transaction. ``save()``, not
    ``update()``: whatever caches the object (tokens) hears of it through post_save."""
    with transaction.atomic():
        obj.active = False
        obj.save(update_fields=["active"])
        record(user, community, action, summary, obj, {"active": [True, False]})
