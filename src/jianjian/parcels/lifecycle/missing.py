"""A parcel not where the record says (missing), and found again."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from jianjian import clock
from jianjian.notify.schedule import next_step_at
from jianjian.parcels.errors import NotFound
from jianjian.parcels.lifecycle.kernel import (
    Actor,
    lock_point,
    lock_points_then_parcel,
    on_hand,
    record,
    require,
    save_counts,
)
from jianjian.parcels.models import EventKind, Method, Parcel, ParcelState
from jianjian.parcels.placement import choose_slot, next_pickup_code
from jianjian.parcels.policy import dead_at
from jianjian.points.models import CollectionPoint, Slot


@transaction.atomic
def mark_missing(
    parcel: Parcel, *, actor: Actor, note: str = "", method: str = Method.TYPED
) -> Parcel:
    """The parcel is not where the record says. It keeps its point, slot and code as last seen."""
    parcel = lock_points_then_parcel(parcel)
    require(parcel, EventKind.MISSING)
    parcel.state = ParcelState.MISSING
    parcel.next_reminder_at = None
    record(parcel, EventKind.MISSING, actor, method, clock.now(), data={"note": note.strip()[:500]})
    assert parcel.point_id is not None
    on_hand(parcel.community_id, parcel.point_id, -1)
    return parcel


@transaction.atomic
def mark_found(
    parcel: Parcel,
    *,
    point: CollectionPoint,
    actor: Actor,
    slot: Slot | None = None,
    method: str = Method.TYPED,
) -> Parcel:
    """A missing parcel is back on hand at ``point``."""
    parcel = lock_points_then_parcel(parcel, point)
    require(parcel, EventKind.FOUND)
    if point.community_id != parcel.community_id:
        raise NotFound(_("No such point in this community."))
    point = lock_point(point)  # already locked: this re-reads it and checks it is open
    found_at(parcel, point, actor, method, clock.now(), slot)
    return parcel


def found_at(
    parcel: Parcel,
    point: CollectionPoint,
    actor: Actor,
    method: str,
    now: dt.datetime,
    slot: Slot | None,
) -> None:
    """A missing parcel turns up: back on hand here, keeping its code if it is the same point.
    ``point`` is locked; its on-hand count and code sequence are written here."""
    if parcel.point_id != point.pk or slot is not None:
        chosen = choose_slot(point, parcel.size, slot)
        parcel.point, parcel.slot = point, chosen
        parcel.pickup_code = next_pickup_code(point, chosen)
    parcel.state = ParcelState.AT_POINT
    if parcel.intake_at is not None:
        parcel.next_reminder_at = next_step_at(
            point.community, parcel.intake_at, now, dead_at(point, parcel.intake_at)
        )
    record(parcel, EventKind.FOUND, actor, method, now)
    point.on_hand += 1
    save_counts(point)
