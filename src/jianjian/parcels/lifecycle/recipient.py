"""Matching a parcel taken in without a known resident."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from jianjian import clock
from jianjian.communities.models import Resident
from jianjian.parcels.errors import NotFound
from jianjian.parcels.lifecycle.kernel import Actor, apply_recipient, lock_parcel, record, require
from jianjian.parcels.matching import RecipientInfo
from jianjian.parcels.models import EventKind, Method, Parcel


@transaction.atomic
def assign_recipient(
    parcel: Parcel,
    resident: Resident,
    *,
    actor: Actor,
    method: str = Method.TYPED,
) -> Parcel:
    """Match a parcel taken in without a known resident; if it waits at a point, the resident is
    told it is here (the event's hook)."""
    parcel = lock_parcel(parcel)
    require(parcel, EventKind.RECIPIENT)
    if resident.community_id != parcel.community_id:
        raise NotFound(_("No such resident in this community."))
    if parcel.recipient_id == resident.pk:
        return parcel
    apply_recipient(parcel, RecipientInfo(resident=resident))
    record(
        parcel, EventKind.RECIPIENT, actor, method, clock.now(), data={"resident_id": resident.pk}
    )
    return parcel
