"""The counter's pickup lookups for a counter app: by pickup code, by phone tail (+ flat), by a
resident's or a proxy's pickup QR.

The answers come from the very function the counter's pickup screen uses
(:func:`jianjian.parcels.queries.lookup_for_pickup`), so an app and the counter find the same
parcels, grouped the same way, with the same masked recipient; only a point's clerks and admins
may ask (404 for anyone else).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from jianjian import access, clock
from jianjian.api.auth import principal
from jianjian.api.errors import ERRORS
from jianjian.api.schemas import ParcelOut, parcel_out
from jianjian.communities.models import normalize_flat_code
from jianjian.parcels.errors import InvalidInput, NotFound
from jianjian.parcels.queries import PickupGroup, PickupLookup, lookup_for_pickup
from jianjian.points.models import CollectionPoint

router = Router(tags=["counter lookups"])


class LookupIn(Schema):
    # Exactly one of code, tail, qr. A pickup code starts with its point's letters, so it can
    # never be taken for a phone tail or a phone number.
    code: str = Field("", max_length=40, pattern=r"^([A-Za-z][A-Za-z0-9 \-]*)?$")
    tail: str = Field("", pattern=r"^(\d{4})?$", description="the phone's last 4 digits")
    flat: str = Field("", max_length=30, description="narrows a phone tail, e.g. 3-2-501")
    qr: str = Field("", max_length=500, description="a resident's (JJ1:…) or proxy's (JJ1P:…) QR")


class LookupParcelOut(ParcelOut):
    slot: str | None


class ProxyOut(Schema):
    id: int
    name: str
    phone_tail: str


class GroupOut(Schema):
    recipient: str  # as the counter shows it: flat, masked name, masked phone
    proxy: ProxyOut | None
    parcels: list[LookupParcelOut]


class LookupOut(Schema):
    method: str
    single: bool  # one recipient only: everything can be handed over at once
    groups: list[GroupOut]


@router.get("/points/{point_id}/lookup", response={200: LookupOut, **ERRORS})
def lookup(request: HttpRequest, point_id: int, q: Query[LookupIn]):  # type: ignore[no-untyped-def]
    """What the counter's pickup screen finds for a pickup code, a phone tail (optionally with
    the flat) or a pickup QR at this point."""
    who = principal(request)
    point = access.api_work_point(who, point_id)
    found = _lookup(point, q)
    return {
        "method": found.method,
        "single": found.single,
        "groups": [_group_out(group, point, who) for group in found.groups],
    }


def _lookup(point: CollectionPoint, q: LookupIn) -> PickupLookup:
    given = [name for name in ("code", "tail", "qr") if getattr(q, name).strip()]
    if len(given) != 1:
        raise InvalidInput(
            _("Give exactly one of a pickup code, a phone's last 4 digits or a pickup QR."),
            code="lookup_one",
        )
    if q.flat and not q.tail:
        raise InvalidInput(_("A flat narrows a phone tail: give the tail too."), code="lookup_one")
    if q.qr and not q.qr.strip().upper().startswith(("JJ1:", "JJ1P:")):
        raise InvalidInput(
            _("This is not a valid pickup QR code of this community."), code="qr_invalid"
        )
    found = lookup_for_pickup(point, q.code or q.tail or q.qr, clock.now())
    return _in_flat(point, found, q.tail, q.flat) if q.flat else found


def _in_flat(point: CollectionPoint, found: PickupLookup, tail: str, raw: str) -> PickupLookup:
    try:
        flat = normalize_flat_code(raw)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), code="flat_invalid") from None
    groups = [g for g in found.groups if _flat_of(g) == flat]
    if not groups:
        raise NotFound(
            _("Nothing is waiting at %(point)s for a phone ending in %(tail)s in %(flat)s.")
            % {"point": point.name, "tail": tail, "flat": flat}
        )
    return PickupLookup(found.method, groups)


def _flat_of(group: PickupGroup) -> str | None:
    flat = group.parcels[0].recipient_flat
    return flat.code if flat else None


def _group_out(group: PickupGroup, point: CollectionPoint, who: access.Principal) -> dict[str, Any]:
    proxy = group.proxy
    return {
        "recipient": group.label,
        "proxy": (
            {"id": proxy.pk, "name": proxy.name, "phone_tail": proxy.phone[-4:]} if proxy else None
        ),
        "parcels": [_parcel_out(p, point, who) for p in group.parcels],
    }


def _parcel_out(parcel: Any, point: CollectionPoint, who: access.Principal) -> dict[str, Any]:
    # Every parcel found is at this point, in its community: no query per parcel for them.
    parcel.point, parcel.community = point, point.community
    return parcel_out(parcel, who) | {"slot": parcel.slot.label if parcel.slot else None}
