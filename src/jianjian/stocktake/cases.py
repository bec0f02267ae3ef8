"""Missing-parcel cases follow the custody record: a ``missing`` event opens one, a ``found``
event closes it.

They hang on the custody event's ``post_save`` so that every way of marking a parcel missing or
finding it (stocktake, counter, API, CLI) keeps its case, in the same transaction as the event —
the lifecycle services stay the only writers of custody, and this module only mirrors them.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from jianjian.parcels.models import CustodyEvent, EventKind
from jianjian.stocktake.models import MissingCase


def _on_event(sender: type[CustodyEvent], instance: CustodyEvent, created: bool, **_: Any) -> None:
    if not created:
        return
    if instance.kind == EventKind.MISSING:
        _open(instance)
    elif instance.kind == EventKind.FOUND:
        MissingCase.objects.filter(parcel_id=instance.parcel_id, closed_at__isnull=True).update(
            closed_at=instance.at,
            closed_by_label=instance.actor_label,
            found_at_point_id=instance.point_id,
        )


def _open(event: CustodyEvent) -> None:
    before = (
        CustodyEvent.objects.filter(parcel_id=event.parcel_id, seq__lt=event.seq)
        .exclude(kind=EventKind.RECIPIENT)
        .order_by("-seq")
        .first()
    )
    MissingCase.objects.create(
        community_id=event.community_id,
        parcel_id=event.parcel_id,
        point_id=event.point_id,
        opened_at=event.at,
        opened_by_label=event.actor_label,
        note=str(event.data.get("note", ""))[:500],
        last_seen_at=before.at if before else None,
        last_seen_by=before.actor_label if before else "",
        last_seen_kind=before.kind if before else "",
    )


def connect() -> None:
    post_save.connect(_on_event, sender=CustodyEvent, dispatch_uid="stocktake.missing_cases")
