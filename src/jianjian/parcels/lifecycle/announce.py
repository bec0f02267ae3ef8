"""Pre-advice: a courier or carrier feed says a parcel is coming (one, or a manifest's many)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from jianjian import bulk, clock
from jianjian.communities.models import Community, Resident
from jianjian.couriers.models import Carrier, Courier
from jianjian.ops.logs import log_bulk_custody
from jianjian.parcels.lifecycle.kernel import Actor, apply_recipient, carrier, record, tracking
from jianjian.parcels.matching import RecipientInfo
from jianjian.parcels.models import CustodyEvent, EventKind, Method, Parcel, ParcelState
from jianjian.points.models import CollectionPoint, SlotSize

S = ParcelState


@transaction.atomic
def announce(
    community: Community,
    tracking_number: str,
    *,
    actor: Actor,
    method: str = Method.API,
    carrier_code: str = "",
    recipient: RecipientInfo | None = None,
    planned_point: CollectionPoint | None = None,
    courier: Courier | None = None,
    size: str = SlotSize.M,
) -> tuple[Parcel, bool]:
    """Register a pre-advised parcel. Re-announcing a known number changes nothing."""
    number, recognised = tracking(tracking_number)
    existing = Parcel.objects.filter(community=community, tracking_number=number).first()
    if existing is not None:
        return existing, False
    now = clock.now()
    parcel = Parcel(
        community=community,
        tracking_number=number,
        carrier=carrier(carrier_code or recognised),
        state=S.ANNOUNCED,
        size=size,
        planned_point=planned_point,
        delivering_courier=courier,
        announced_at=now,
    )
    if recipient is not None:
        apply_recipient(parcel, recipient)
    try:
        with transaction.atomic():
            record(parcel, EventKind.ANNOUNCE, actor, method, now, courier=courier)
    except IntegrityError:
        # Another request announced the same number a moment ago: theirs stands.
        return Parcel.objects.get(community=community, tracking_number=number), False
    return parcel, True


@dataclass(frozen=True)
class Announcement:
    """One validated pre-advice row for :func:`announce_many` (number already normalised)."""

    tracking_number: str
    carrier_code: str
    name: str = ""
    phone: str = ""
    resident_id: int | None = None
    flat_id: int | None = None
    size: str = SlotSize.M


# Rows announced per savepoint: a concurrent announcer sends only this many down the slow path.
ANNOUNCE_BATCH = 10_000


@transaction.atomic
def announce_many(
    community: Community,
    rows: Sequence[Announcement],
    *,
    actor: Actor,
    method: str = Method.MANIFEST,
    courier: Courier | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, list[str]]:
    """Announce many parcels in one transaction with bulk inserts (manifests, carrier feeds).

    Same rules as :func:`announce`: numbers already known change nothing and are returned.
    Returns (number created, numbers already known). Rows go in batches of ``ANNOUNCE_BATCH``,
    each in a savepoint; if a concurrent writer announces one of a batch's numbers meanwhile,
    that batch falls back to :func:`announce` row by row, which settles each race.
    ``progress`` is called with each batch's size once it is written.

    The custody log gets one summary line for the events written in bulk (see
    :func:`jianjian.ops.logs.log_bulk_custody`) instead of one per event; rows of the row-by-row
    fallback are recorded one by one like any other event, hooks and all.
    """
    created, known, in_bulk = 0, [], 0
    for start in range(0, len(rows), ANNOUNCE_BATCH):
        batch = rows[start : start + ANNOUNCE_BATCH]
        try:
            with transaction.atomic():
                n, k = _announce_batch(community, batch, actor, method, courier)
            in_bulk += n
        except IntegrityError:
            n, k = _announce_one_by_one(community, batch, actor, method, courier)
        created += n
        known += k
        if progress is not None:
            progress(len(batch))
    if in_bulk:
        log_bulk_custody(
            count=in_bulk,
            kind=EventKind.ANNOUNCE,
            to_state=S.ANNOUNCED,
            community_id=community.pk,
            method=method,
            actor=actor.label[:100],
        )
    return created, known


def _announce_one_by_one(
    community: Community,
    rows: Sequence[Announcement],
    actor: Actor,
    method: str,
    courier: Courier | None,
) -> tuple[int, list[str]]:
    created, known = 0, []
    for row in rows:
        parcel, new = announce(
            community,
            row.tracking_number,
            actor=actor,
            method=method,
            carrier_code=row.carrier_code,
            courier=courier,
            size=row.size,
            recipient=RecipientInfo(
                resident=Resident.objects.filter(
                    community_id=community.pk, pk=row.resident_id
                ).first()
                if row.resident_id
                else None,
                name=row.name,
                phone=row.phone,
                last4=row.phone[-4:],
            ),
        )
        created += new
        if not new:
            known.append(parcel.tracking_number)
    return created, known


def _known_numbers(community: Community, numbers: list[str]) -> set[str]:
    known: set[str] = set()
    for where in bulk.in_filters("tracking_number", numbers):
        known.update(
            Parcel.objects.filter(where, community=community).values_list(
                "tracking_number", flat=True
            )
        )
    return known


def _announce_batch(
    community: Community,
    rows: Sequence[Announcement],
    actor: Actor,
    method: str,
    courier: Courier | None,
) -> tuple[int, list[str]]:
    """Insert the parcels of ``rows`` not known yet, and their announce events, in bulk."""
    numbers = [r.tracking_number for r in rows]
    known = _known_numbers(community, numbers)
    carriers = {c.code: c.pk for c in Carrier.objects.all()}
    now = clock.now()
    parcels: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in rows:
        if row.tracking_number in known or row.tracking_number in seen:
            continue
        seen.add(row.tracking_number)
        if row.carrier_code not in carriers:
            carriers[row.carrier_code] = carrier(row.carrier_code).pk
        parcels.append(_announced_parcel(community, row, carriers[row.carrier_code], courier, now))
    event = _announce_event(community, actor, method, courier, now)
    if bulk.available():
        _copy_announced(parcels, event)
    else:
        created = Parcel.objects.bulk_create([Parcel(**p) for p in parcels], batch_size=2000)
        CustodyEvent.objects.bulk_create(
            (CustodyEvent(parcel_id=p.pk, **event) for p in created), batch_size=2000
        )
    return len(parcels), sorted(known & set(numbers))


def _announced_parcel(
    community: Community,
    row: Announcement,
    carrier_id: int,
    courier: Courier | None,
    now: dt.datetime,
) -> dict[str, Any]:
    """The fields of a freshly announced parcel (both write paths build the rows from this)."""
    return {
        "community_id": community.pk,
        "tracking_number": row.tracking_number,
        "carrier_id": carrier_id,
        "state": S.ANNOUNCED.value,
        "size": row.size,
        "delivering_courier_id": courier.pk if courier else None,
        "announced_at": now,
        "recipient_id": row.resident_id,
        "recipient_name": row.name[:50],
        "recipient_phone": row.phone,
        "recipient_last4": row.phone[-4:],
        "recipient_flat_id": row.flat_id,
        "event_count": 1,
    }


def _announce_event(
    community: Community, actor: Actor, method: str, courier: Courier | None, now: dt.datetime
) -> dict[str, Any]:
    """The fields every announce event of a batch shares (all but its parcel)."""
    return {
        "community_id": community.pk,
        "seq": 1,
        "kind": EventKind.ANNOUNCE.value,
        "to_state": S.ANNOUNCED.value,
        "at": now,
        "actor_id": actor.user.pk if actor.user else None,
        "actor_label": actor.label[:100],
        "method": str(method),
        "courier_id": courier.pk if courier else None,
    }


def _copy_announced(parcels: list[dict[str, Any]], event: dict[str, Any]) -> None:
    """PostgreSQL: write the parcels and their events with COPY, ids reserved beforehand."""
    ids = bulk.reserve_ids(Parcel, len(parcels))
    for pk, parcel in zip(ids, parcels, strict=True):
        parcel["id"] = pk
    bulk.copy_insert(Parcel, parcels)
    bulk.copy_insert(CustodyEvent, [{"parcel_id": pk, **event} for pk in ids])
