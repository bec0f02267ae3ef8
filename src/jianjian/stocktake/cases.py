"""Missing-parcel cases follow the custody record: a ``missing`` event opens one, a ``found``
event closes it.

The custody kernel calls :func:`follow` with every event it writes (no model signal), so every
way of marking a parcel missing or finding it (stocktake, counter, API, CLI) keeps its case, in
the same transaction as the event — the lifecycle services stay the only writers of custody, and
this module only mirrors them.
"""

from __future__ import annotations

from collections.abc import Iterable

from jianjian.parcels.models import CustodyEvent, EventKind
from jianjian.stocktake.models import MissingCase


def follow(events: Iterable[CustodyEvent]) -> None:
    """Open a case for each ``missing`` event, close the open one at each ``found`` event."""
    for event in events:
        if event.kind == EventKind.MISSING:
            _open(event)
        elif event.kind == EventKind.FOUND:
            MissingCase.objects.filter(parcel_id=event.parcel_id, closed_at__isnull=True).update(
                closed_at=event.at,
                closed_by_label=event.actor_label,
                found_at_point_id=event.point_id,
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
