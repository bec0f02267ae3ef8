"""Moving a parcel to another slot or point."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from jianjian import clock
from jianjian.parcels.errors import InvalidInput, NotFound
from jianjian.parcels.lifecycle.kernel import (
    Actor,
    closed,
    lock_points_then_parcel,
    on_hand,
    record,
    require,
)
from jianjian.parcels.models import EventKind, Method, Parcel
from jianjian.parcels.placement import choose_slot, next_pickup_code
from jianjian.points.models import CollectionPoint, Slot


@transaction.atomic
def move(
    parcel: Parcel,
    *,
    to_point: CollectionPoint,
    actor: Actor,
    to_slot: Slot | None = None,
    method: str = Method.TYPED,
    reason: str = "",
) -> Parcel:
    """Move a parcel to another slot or point. Its pickup code changes, and the resident is told."""
    parcel = lock_points_then_parcel(parcel, to_point)
    require(parcel, EventKind.MOVE)
    if to_point.community_id != parcel.community_id:
        raise NotFound(_("No such point in this community."))
    from_id = parcel.point_id
    assert from_id is not None
    target = CollectionPoint.objects.get(community_id=to_point.community_id, pk=to_point.pk)
    if not target.active:
        raise closed(target)
    if to_slot is not None and to_slot.pk == parcel.slot_id:
        raise InvalidInput(_("The parcel is already in that slot."), code="same_slot")
    chosen = choose_slot(target, parcel.size, to_slot)
    now = clock.now()
    parcel.point, parcel.slot = target, chosen
    parcel.pickup_code = next_pickup_code(target, chosen)
    data = {"from_point": from_id, "reason": reason.strip()[:200]}
    record(parcel, EventKind.MOVE, actor, method, now, data=data)
    CollectionPoint.objects.filter(community_id=target.community_id, pk=target.pk).update(
        code_seq=target.code_seq
    )
    if from_id != target.pk:
        on_hand(target.community_id, from_id, -1)
        on_hand(target.community_id, target.pk, +1)
    return parcel
