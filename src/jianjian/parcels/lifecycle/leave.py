"""Leaving the point: handed over to the resident (or a proxy), or returned to the courier.

Both close the parcel's stay the same way (:func:`_leave`): no slot, no code, no reminder, a
holder and a closing time; only who holds it differs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from jianjian import clock
from jianjian.communities.models import PickupProxy
from jianjian.communities.phones import mask_phone
from jianjian.couriers.models import Courier
from jianjian.couriers.recognition import UNKNOWN
from jianjian.parcels.errors import InvalidInput, InvalidTransition, NotFound
from jianjian.parcels.lifecycle.kernel import (
    Actor,
    lock_point,
    lock_points_then_parcel,
    on_hand,
    record,
    require,
    state_label,
)
from jianjian.parcels.models import EventKind, Method, Parcel, ParcelState
from jianjian.points.models import CollectionPoint

S = ParcelState


def _leave(
    parcel: Parcel,
    kind: str,
    actor: Actor,
    method: str,
    now: dt.datetime,
    *,
    holder: str,
    courier: Courier | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Close ``parcel``'s stay at its point and record who holds it now."""
    parcel.state = S.PICKED_UP if kind == EventKind.HAND_OVER else S.RETURNED
    parcel.slot = None
    parcel.pickup_code = ""
    parcel.closed_at = now
    parcel.next_reminder_at = None
    parcel.collected_by = holder if courier is None else ""
    parcel.returned_to = courier
    record(
        parcel,
        kind,
        actor,
        method,
        now,
        slot_id=None,
        courier=courier,
        holder=holder[:100],
        data=data or {},
    )


@transaction.atomic
def hand_over(
    point: CollectionPoint,
    parcels: Sequence[Parcel],
    *,
    actor: Actor,
    method: str = Method.CODE,
    proxy: PickupProxy | None = None,
) -> list[Parcel]:
    """Hand parcels at ``point`` to their resident (or an authorised proxy) in one confirmation.

    All or nothing: if any parcel is not at this point, or the proxy may not collect it, nothing
    is handed over.
    """
    if not parcels:
        raise InvalidInput(_("Choose at least one parcel to hand over."), code="nothing_chosen")
    point = lock_point(point)
    now = clock.now()
    locked = list(
        Parcel.objects.select_for_update(of=("self",))
        .select_related("recipient", "community")
        .filter(community_id=point.community_id, pk__in=[p.pk for p in parcels])
        .order_by("pk")
    )
    if len(locked) != len({p.pk for p in parcels}):
        raise NotFound(_("A parcel you chose no longer exists."))
    for parcel in locked:
        if parcel.point_id != point.pk or parcel.state != S.AT_POINT:
            raise InvalidTransition(
                _(
                    "Parcel %(number)s is not waiting at %(point)s (it is %(state)s); "
                    "nothing was handed over."
                )
                % {
                    "number": parcel.tracking_number,
                    "point": point.name,
                    "state": state_label(parcel.state),
                },
                code="not_at_point",
            )
        if proxy is not None:
            _check_proxy(proxy, parcel, now)
    data: dict[str, Any] = {}
    if proxy is not None:
        data = {"proxy_id": proxy.pk, "proxy_phone": mask_phone(proxy.phone)}
    for parcel in locked:
        _leave(
            parcel,
            EventKind.HAND_OVER,
            actor,
            method,
            now,
            holder=_holder(parcel, proxy),
            data=dict(data),
        )
    on_hand(point.community_id, point.pk, -len(locked))
    return locked


def _holder(parcel: Parcel, proxy: PickupProxy | None) -> str:
    if proxy is not None:
        who = proxy.name or mask_phone(proxy.phone)
        return _("proxy %(who)s") % {"who": who}
    return parcel.recipient_name or mask_phone(parcel.recipient_phone) or _("recipient")


def _check_proxy(proxy: PickupProxy, parcel: Parcel, now: dt.datetime) -> None:
    ok = (
        proxy.is_active(now)
        and proxy.community_id == parcel.community_id
        and parcel.recipient_id == proxy.resident_id
        and (proxy.parcel_id is None or proxy.parcel_id == parcel.pk)
    )
    if not ok:
        raise InvalidTransition(
            _(
                "This proxy may not collect parcel %(number)s (expired, revoked or not theirs); "
                "nothing was handed over."
            )
            % {"number": parcel.tracking_number},
            code="proxy_invalid",
        )


@transaction.atomic
def return_to_courier(
    parcel: Parcel,
    *,
    courier: Courier,
    actor: Actor,
    method: str = Method.SCAN,
    reason: str = "",
) -> Parcel:
    """A courier collects a dead or refused parcel from its point."""
    parcel = lock_points_then_parcel(parcel)
    require(parcel, EventKind.RETURN)
    if parcel.carrier.code != UNKNOWN and parcel.carrier_id != courier.carrier_id:
        raise InvalidInput(
            _("Parcel %(number)s is a %(carrier)s parcel; %(courier)s cannot take it back.")
            % {"number": parcel.tracking_number, "carrier": parcel.carrier, "courier": courier},
            code="wrong_carrier",
        )
    assert parcel.point_id is not None
    point_id = parcel.point_id
    reason = reason.strip()
    _leave(
        parcel,
        EventKind.RETURN,
        actor,
        method,
        clock.now(),
        holder=str(courier),
        courier=courier,
        data={"reason": reason[:200]} if reason else {},
    )
    on_hand(parcel.community_id, point_id, -1)
    return parcel
