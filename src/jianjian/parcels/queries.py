"""Read-only lookups for the clerk's counter: who is collecting, what is on hand, what goes back.

Nothing here changes a parcel (that is :mod:`jianjian.parcels.services`' job). Every function runs
a fixed number of queries whatever the number of parcels — pinned by tests — because a counter
with 300 parcels on its shelves must answer a pickup lookup as fast as one with three.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from jianjian.communities.models import Community, Flat, PickupProxy, Resident, normalize_flat_code
from jianjian.communities.phones import mask_name, mask_phone, normalize_phone
from jianjian.communities.qr import QRExpired, QRInvalid, read_token
from jianjian.couriers.models import Carrier, Courier
from jianjian.parcels.errors import InvalidInput, NotFound
from jianjian.parcels.models import Method, Parcel, ParcelState
from jianjian.parcels.placement import normalize_code
from jianjian.parcels.policy import dead_cutoff, overdue_after
from jianjian.points.models import CollectionPoint
from jianjian.residents.pickup import (
    PHONE_PREFIX,
    PROXY_PREFIX,
    ProxyInactive,
    read_phone_token,
    read_proxy_token,
)

# The on-hand list shows at most this many rows; a point with more is asked to filter.
ON_HAND_LIMIT = 300


def _clean(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw or "").strip()


def on_hand_parcels(point: CollectionPoint) -> QuerySet[Parcel]:
    """The parcels waiting at ``point``, with everything a list row shows joined in."""
    return (
        # The community too, though the point implies it: a query that names its community can
        # be routed to one shard once the tables are distributed by community_id.
        Parcel.objects.filter(
            community_id=point.community_id, point=point, state=ParcelState.AT_POINT
        )
        .select_related("slot", "carrier", "recipient", "recipient_flat")
        .order_by("slot__shelf", "slot__tier", "intake_at", "pk")
    )


def recipient_label(parcel: Parcel) -> str:
    """``3-2-501 张* 138****5678``: enough for the clerk to recognise, masked for bystanders."""
    parts = [
        parcel.recipient_flat.code if parcel.recipient_flat else "",
        mask_name(parcel.recipient_name),
        mask_phone(parcel.recipient_phone)
        or (f"****{parcel.recipient_last4}" if parcel.recipient_last4 else ""),
    ]
    return " ".join(p for p in parts if p)


def holder_label(holder: str, parcel: Parcel) -> str:
    """Who holds a handed-over parcel, as the counter shows it: the recipient's own name masked
    like :func:`recipient_label`; a proxy's label (the resident's name for them) as recorded."""
    if holder and parcel.recipient_name and holder.strip() == parcel.recipient_name.strip():
        return mask_name(holder)
    return holder


# --- pickup lookup -------------------------------------------------------------------------


@dataclass
class PickupGroup:
    """One recipient's parcels at the point, and the proxy collecting them, if any."""

    parcels: list[Parcel]
    proxy: PickupProxy | None = None

    @property
    def label(self) -> str:
        return recipient_label(self.parcels[0])

    @property
    def recipient_id(self) -> int | None:
        return self.parcels[0].recipient_id


@dataclass
class PickupLookup:
    method: str
    groups: list[PickupGroup] = field(default_factory=list)

    @property
    def parcels(self) -> list[Parcel]:
        return [p for g in self.groups for p in g.parcels]

    @property
    def single(self) -> bool:
        """One recipient only: everything can be ticked for a one-click handover."""
        return len(self.groups) == 1


def _group_key(parcel: Parcel) -> tuple[str, object]:
    if parcel.recipient_id:
        return ("r", parcel.recipient_id)
    if parcel.recipient_phone:
        return ("p", parcel.recipient_phone)
    return ("x", parcel.pk)


def _groups(parcels: Iterable[Parcel]) -> list[PickupGroup]:
    grouped: dict[tuple[str, object], list[Parcel]] = {}
    for parcel in parcels:
        grouped.setdefault(_group_key(parcel), []).append(parcel)
    return [PickupGroup(items) for items in grouped.values()]


def _proxy_groups(
    point: CollectionPoint, proxies: list[PickupProxy], now: dt.datetime
) -> list[PickupGroup]:
    """Parcels at the point that the proxies may collect (one query for all of them)."""
    active = [p for p in proxies if p.is_active(now)]
    if not active:
        return []
    parcels = list(on_hand_parcels(point).filter(recipient_id__in={p.resident_id for p in active}))
    groups = []
    for proxy in active:
        mine = [
            p
            for p in parcels
            if p.recipient_id == proxy.resident_id and proxy.parcel_id in (None, p.pk)
        ]
        if mine:
            groups.append(PickupGroup(mine, proxy=proxy))
    return groups


def _nothing(point: CollectionPoint, what: str) -> NotFound:
    return NotFound(
        _("Nothing is waiting at %(point)s for %(what)s.") % {"point": point.name, "what": what}
    )


def lookup_for_pickup(point: CollectionPoint, raw: str, now: dt.datetime) -> PickupLookup:
    """What the clerk typed or scanned → the parcels to hand over, grouped by recipient.

    Accepts the resident's pickup QR (``JJ1:…``), a proxy's pickup QR (``JJ1P:…``: only what
    that grant covers, with the proxy named for the handover), a pickup code (``A1-2-017``), the phone's last 4
    digits (the resident's or an authorised proxy's), a full phone number, or a tracking number.
    Raises InvalidInput / NotFound with a message for the clerk.
    """
    text = _clean(raw)
    if not text:
        raise InvalidInput(
            _(
                "Scan the resident's or the proxy's QR code, or type a pickup code or a phone's "
                "last 4 digits."
            ),
            code="empty",
        )
    if text[: len(PROXY_PREFIX)].upper() == PROXY_PREFIX:
        return _by_proxy_qr(point, text, now)
    if text[: len(PHONE_PREFIX)].upper() == PHONE_PREFIX:
        return _by_phone_qr(point, text)
    if text.upper().startswith("JJ1:"):
        return _by_qr(point, text)
    digits = text.replace(" ", "").replace("-", "")
    if len(digits) == 4 and digits.isdigit():
        return _by_phone_tail(point, digits, now)
    if digits.lstrip("+").isdigit() and len(digits.lstrip("+")) >= 11:
        return _by_phone(point, text, now)
    return _by_code(point, text)


def _read_qr(read: Callable[[str, int], Any], text: str, community_id: int) -> Any:
    """What a resident's pickup QR carries, or the clerk's message for an expired or foreign one."""
    try:
        return read(text, community_id)
    except QRExpired:
        raise InvalidInput(
            _("This QR code has expired. Ask the resident to open it again on their phone."),
            code="qr_expired",
        ) from None
    except QRInvalid:
        raise InvalidInput(
            _("This is not a valid pickup QR code of this community."), code="qr_invalid"
        ) from None


def _by_qr(point: CollectionPoint, text: str) -> PickupLookup:
    resident_id = _read_qr(read_token, "JJ1:" + text[4:], point.community_id)
    parcels = list(on_hand_parcels(point).filter(recipient_id=resident_id))
    if not parcels:
        raise _nothing(point, _("this resident"))
    return PickupLookup(Method.QR, [PickupGroup(parcels)])


def _by_phone_qr(point: CollectionPoint, text: str) -> PickupLookup:
    """The QR of a phone without a roster row: its waiting parcels here with no roster row."""
    phone = _read_qr(read_phone_token, text, point.community_id)
    parcels = list(on_hand_parcels(point).filter(recipient__isnull=True, recipient_phone=phone))
    if not parcels:
        raise _nothing(point, _("this resident"))
    return PickupLookup(Method.QR, [PickupGroup(parcels)])


def _by_proxy_qr(point: CollectionPoint, text: str, now: dt.datetime) -> PickupLookup:
    """A proxy's QR: the parcels that grant covers here, and the proxy to record (two queries)."""
    try:
        proxy = read_proxy_token(text, point.community_id)
    except QRExpired:
        raise InvalidInput(
            _("This QR code has expired. Ask the proxy to open it again on their phone."),
            code="qr_expired",
        ) from None
    except ProxyInactive:
        raise InvalidInput(
            _(
                "This proxy may no longer collect: the resident revoked the authorisation or it "
                "has run out. Nothing was handed over."
            ),
            code="proxy_inactive",
        ) from None
    except QRInvalid:
        raise InvalidInput(
            _("This is not a valid pickup QR code of this community."), code="qr_invalid"
        ) from None
    groups = _proxy_groups(point, [proxy], now)
    if not groups:
        raise _nothing(point, _("this proxy"))
    return PickupLookup(Method.QR, groups)


def _by_phone_tail(point: CollectionPoint, tail: str, now: dt.datetime) -> PickupLookup:
    own = list(on_hand_parcels(point).filter(recipient_last4=tail))
    proxies = list(
        PickupProxy.objects.live(now).filter(community_id=point.community_id, phone__endswith=tail)
    )
    groups = _groups(own) + _proxy_groups(point, proxies, now)
    if not groups:
        raise _nothing(point, _("a phone ending in %(tail)s") % {"tail": tail})
    return PickupLookup(Method.PHONE_TAIL, groups)


def _by_phone(point: CollectionPoint, text: str, now: dt.datetime) -> PickupLookup:
    try:
        phone = normalize_phone(text)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), code="phone_invalid") from None
    own = list(on_hand_parcels(point).filter(recipient_phone=phone))
    proxies = list(
        PickupProxy.objects.live(now).filter(community_id=point.community_id, phone=phone)
    )
    groups = _groups(own) + _proxy_groups(point, proxies, now)
    if not groups:
        raise _nothing(point, mask_phone(phone))
    return PickupLookup(Method.PHONE_TAIL, groups)


def _by_code(point: CollectionPoint, text: str) -> PickupLookup:
    code = normalize_code(text)
    first = (
        on_hand_parcels(point)
        .filter(Q(pickup_code=code) | Q(tracking_number=text.replace(" ", "").upper()))
        .first()
    )
    if first is None:
        raise InvalidInput(
            _("No parcel with code %(code)s is waiting at %(point)s. Check the code and try again.")
            % {"code": code, "point": point.name},
            code="code_unknown",
        )
    # The code names one parcel; the resident collects everything of theirs waiting here.
    siblings: list[Parcel] = [first]
    if first.recipient_id or first.recipient_phone:
        same = (
            Q(recipient_id=first.recipient_id)
            if first.recipient_id
            else Q(recipient_phone=first.recipient_phone)
        )
        siblings = list(on_hand_parcels(point).filter(same))
    return PickupLookup(Method.CODE, [PickupGroup(siblings)])


def find_proxy(community: Community, phone: str, resident_ids: Iterable[int | None]) -> PickupProxy:
    """The proxy a clerk names by phone at handover (the services then check it is still valid)."""
    try:
        normal = normalize_phone(phone)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), code="phone_invalid") from None
    proxy = (
        PickupProxy.objects.filter(
            community=community,
            phone=normal,
            resident_id__in=[r for r in resident_ids if r is not None],
        )
        .order_by("revoked_at", "-valid_until")
        .first()
    )
    if proxy is None:
        raise NotFound(
            _("%(phone)s is not an authorised proxy of this resident; nothing was handed over.")
            % {"phone": mask_phone(normal)},
            code="proxy_unknown",
        )
    return proxy


# --- the on-hand list ----------------------------------------------------------------------


@dataclass
class OnHandRow:
    parcel: Parcel
    age: dt.timedelta
    overdue: bool
    dead: bool

    @property
    def recipient(self) -> str:
        return recipient_label(self.parcel)


@dataclass
class OnHandPage:
    rows: list[OnHandRow]
    truncated: bool
    carriers: list[Carrier]


def on_hand(
    point: CollectionPoint,
    now: dt.datetime,
    *,
    carrier: str = "",
    flat: str = "",
    overdue: bool = False,
    search: str = "",
    limit: int = ON_HAND_LIMIT,
) -> OnHandPage:
    """The point's parcels with age and overdue/dead marks, filtered; three queries in all (the
    point's closures, the parcels, the carriers)."""
    community = point.community
    overdue_cut = now - overdue_after(community)
    dead_cut = dead_cutoff(point, now)
    qs = on_hand_parcels(point)
    if carrier:
        qs = qs.filter(carrier__code=carrier)
    if flat.strip():
        try:
            qs = qs.filter(recipient_flat__code=normalize_flat_code(flat))
        except ValidationError as exc:
            raise InvalidInput(" ".join(exc.messages), code="flat_invalid") from None
    if overdue:
        qs = qs.filter(intake_at__lte=overdue_cut)
    text = _clean(search).replace(" ", "")
    if text:
        if len(text) == 4 and text.isdigit():
            qs = qs.filter(recipient_last4=text)
        else:
            qs = qs.filter(Q(tracking_number__icontains=text) | Q(pickup_code=normalize_code(text)))
    parcels = list(qs[: limit + 1])
    rows = [
        OnHandRow(
            parcel=p,
            age=now - p.intake_at if p.intake_at else dt.timedelta(0),
            overdue=bool(p.intake_at and p.intake_at <= overdue_cut),
            dead=bool(p.intake_at and p.intake_at < dead_cut),
        )
        for p in parcels[:limit]
    ]
    return OnHandPage(rows, truncated=len(parcels) > limit, carriers=list(Carrier.objects.all()))


# --- returns -------------------------------------------------------------------------------


@dataclass
class ReturnGroup:
    carrier: Carrier
    parcels: list[Parcel]
    couriers: list[Courier]


def due_for_return(point: CollectionPoint, now: dt.datetime) -> list[ReturnGroup]:
    """Dead parcels at the point (past their deadline), grouped by carrier with its couriers."""
    dead = list(
        on_hand_parcels(point)
        .filter(intake_at__lt=dead_cutoff(point, now))
        .order_by("carrier__code", "intake_at", "pk")
    )
    couriers = community_couriers(point.community)
    groups: dict[int, ReturnGroup] = {}
    for parcel in dead:
        group = groups.get(parcel.carrier_id)
        if group is None:
            mine = [c for c in couriers if c.carrier_id == parcel.carrier_id]
            group = groups[parcel.carrier_id] = ReturnGroup(parcel.carrier, [], mine)
        group.parcels.append(parcel)
    return list(groups.values())


def community_couriers(community: Community) -> list[Courier]:
    return list(
        Courier.objects.filter(communities=community, active=True)
        .select_related("carrier")
        .order_by("carrier__code", "name")
    )


def parcel_at_point(point: CollectionPoint, raw: str) -> Parcel:
    """A parcel waiting at ``point`` by tracking number or pickup code (a scan at returns)."""
    text = _clean(raw).replace(" ", "")
    if not text:
        raise InvalidInput(_("Scan the parcel's barcode."), code="empty")
    parcel = (
        on_hand_parcels(point)
        .filter(Q(tracking_number=text.upper()) | Q(pickup_code=normalize_code(text)))
        .first()
    )
    if parcel is None:
        raise NotFound(
            _("Parcel %(number)s is not waiting at %(point)s.")
            % {"number": text, "point": point.name},
            code="not_at_point",
        )
    return parcel


# --- suggestions while the clerk types a recipient -----------------------------------------


@dataclass(frozen=True)
class Suggestion:
    value: str
    label: str


def recipient_suggestions(
    community: Community, *, last4: str = "", flat: str = "", limit: int = 8
) -> list[Suggestion]:
    """Flats to offer: those of residents whose phone ends in ``last4``, else flats by prefix."""
    prefix = unicodedata.normalize("NFKC", flat or "").strip().upper()
    tail = _clean(last4)
    if len(tail) == 4 and tail.isdigit():
        residents = (
            Resident.objects.filter(community=community, phone_last4=tail, active=True)
            .select_related("flat")
            .order_by("flat__code")
        )
        if prefix:
            residents = residents.filter(flat__code__startswith=prefix)
        return [
            Suggestion(r.flat.code, f"{r.flat.code} {mask_name(r.name)}") for r in residents[:limit]
        ]
    if not prefix:
        return []
    flats = Flat.objects.filter(community=community, code__startswith=prefix).order_by("code")
    return [Suggestion(f.code, f.code) for f in flats[:limit]]
