"""Laying out a point's slots from a few numbers: "10 shelves × 5 tiers", or locker
compartments by size ("20 S, 15 M, 5 L").

Laying out again keeps every slot the new layout still has, and never deletes a slot that any
parcel or custody event refers to: a slot outside the new layout that holds a parcel now stops
the whole change with a message naming it; one that held parcels before is deactivated; only a
slot nothing ever referred to is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext, ngettext

from jianjian.parcels.models import CustodyEvent, Parcel, ParcelState
from jianjian.points.models import SIZE_ORDER, CollectionPoint, Slot, SlotSize

MAX_SHELVES = 200
MAX_TIERS = 20
MAX_SHELF_SLOTS = 2000
MAX_PER_SIZE = 500
MAX_COMPARTMENTS = 1000
# Compartments of one size stand in one column, S in column 1, M in 2, L in 3.
SIZE_COLUMN = {size: SIZE_ORDER[size] + 1 for size in SIZE_ORDER}


@dataclass(frozen=True)
class Layout:
    created: int
    reactivated: int
    deactivated: int
    deleted: int


@dataclass(frozen=True)
class SlotCounts:
    shelf_tiers: int
    compartments: dict[str, int]
    inactive: int
    occupied: int


def check_shelves(shelves: int, tiers: int) -> None:
    if shelves < 1 or tiers < 1:
        raise ValidationError(gettext("Enter at least 1 shelf and 1 tier."))
    if shelves > MAX_SHELVES or tiers > MAX_TIERS or shelves * tiers > MAX_SHELF_SLOTS:
        raise ValidationError(
            gettext(
                "%(shelves)s × %(tiers)s is too many: at most %(max_shelves)s shelves, "
                "%(max_tiers)s tiers and %(max_slots)s slots in all."
            )
            % {
                "shelves": shelves,
                "tiers": tiers,
                "max_shelves": MAX_SHELVES,
                "max_tiers": MAX_TIERS,
                "max_slots": MAX_SHELF_SLOTS,
            }
        )


def check_compartments(sizes: dict[str, int]) -> None:
    if any(n < 0 for n in sizes.values()):
        raise ValidationError(gettext("A number of compartments cannot be negative."))
    if sum(sizes.values()) < 1:
        raise ValidationError(gettext("Enter at least one compartment."))
    if any(n > MAX_PER_SIZE for n in sizes.values()) or sum(sizes.values()) > MAX_COMPARTMENTS:
        raise ValidationError(
            gettext("Too many compartments: at most %(per_size)s of one size and %(total)s in all.")
            % {"per_size": MAX_PER_SIZE, "total": MAX_COMPARTMENTS}
        )


def shelf_places(shelves: int, tiers: int) -> dict[tuple[int, int], str]:
    return {(s, t): SlotSize.L for s in range(1, shelves + 1) for t in range(1, tiers + 1)}


def compartment_places(sizes: dict[str, int]) -> dict[tuple[int, int], str]:
    return {
        (SIZE_COLUMN[size], n): size for size, count in sizes.items() for n in range(1, count + 1)
    }


def _occupied(point: CollectionPoint) -> dict[int, int]:
    """Slot id → parcels lying in it now."""
    rows = (
        Parcel.objects.filter(point=point, state=ParcelState.AT_POINT, slot__isnull=False)
        .values("slot_id")
        .annotate(n=Count("pk"))
        .values_list("slot_id", "n")
    )
    return dict(rows)


def _referenced(slot_ids: list[int]) -> set[int]:
    used = set(Parcel.objects.filter(slot_id__in=slot_ids).values_list("slot_id", flat=True))
    used |= set(CustodyEvent.objects.filter(slot_id__in=slot_ids).values_list("slot_id", flat=True))
    return used


@transaction.atomic
def lay_out(
    point: CollectionPoint, places: dict[tuple[int, int], str], compartments: bool
) -> Layout:
    """Make the point's slots match ``places`` ((shelf, tier) → size): create what is missing,
    reactivate what comes back, retire what the layout drops (see the module's rule)."""
    CollectionPoint.objects.select_for_update().filter(pk=point.pk).first()
    existing = {(s.shelf, s.tier): s for s in Slot.objects.filter(point=point)}
    dropped = [s for place, s in existing.items() if place not in places and s.active]
    occupied = _occupied(point)
    full = [s for s in dropped if occupied.get(s.pk)]
    if full:
        labels = ", ".join(s.label for s in sorted(full, key=lambda s: (s.shelf, s.tier))[:10])
        raise ValidationError(
            ngettext(
                "Slot %(labels)s still holds parcels; hand them out or move them first.",
                "Slots %(labels)s still hold parcels; hand them out or move them first.",
                len(full),
            )
            % {"labels": labels}
        )
    referenced = _referenced([s.pk for s in dropped])
    to_delete = [s.pk for s in dropped if s.pk not in referenced]
    to_retire = [s.pk for s in dropped if s.pk in referenced]
    Slot.objects.filter(pk__in=to_delete).delete()
    Slot.objects.filter(pk__in=to_retire).update(active=False)
    reactivated = 0
    for place, size in places.items():
        slot = existing.get(place)
        if slot is None:
            continue
        if not slot.active or slot.size != size or slot.is_compartment != compartments:
            if not slot.active:
                reactivated += 1
            # A compartment changing size while it holds a parcel would misfile it.
            if occupied.get(slot.pk) and (slot.size != size or slot.is_compartment != compartments):
                raise ValidationError(
                    gettext("Slot %(label)s holds parcels; it cannot change its size now.")
                    % {"label": slot.label}
                )
            slot.active, slot.size, slot.is_compartment = True, size, compartments
            slot.save(update_fields=["active", "size", "is_compartment"])
    new = [
        Slot(
            community_id=point.community_id,
            point=point,
            shelf=shelf,
            tier=tier,
            size=size,
            is_compartment=compartments,
        )
        for (shelf, tier), size in places.items()
        if (shelf, tier) not in existing
    ]
    Slot.objects.bulk_create(new, batch_size=500)
    return Layout(len(new), reactivated, len(to_retire), len(to_delete))


def counts(point: CollectionPoint) -> SlotCounts:
    rows = list(Slot.objects.filter(point=point).values_list("is_compartment", "size", "active"))
    sizes = {size: 0 for size in SIZE_ORDER}
    shelf_tiers = inactive = 0
    for is_compartment, size, active in rows:
        if not active:
            inactive += 1
        elif is_compartment:
            sizes[size] = sizes.get(size, 0) + 1
        else:
            shelf_tiers += 1
    occupied = (
        Parcel.objects.filter(point=point, state=ParcelState.AT_POINT, slot__isnull=False)
        .values("slot_id")
        .distinct()
        .count()
    )
    return SlotCounts(shelf_tiers, sizes, inactive, occupied)


def shelf_shape(point: CollectionPoint) -> tuple[int, int]:
    """The current (shelves, tiers) of the active shelf tiers, to prefill the form."""
    rows = Slot.objects.filter(point=point, active=True, is_compartment=False)
    shelves = rows.values("shelf").distinct().count()
    tiers = rows.values("tier").distinct().count()
    return shelves, tiers


def compartment_sizes(point: CollectionPoint) -> dict[str, int]:
    sizes = {size: 0 for size in SIZE_ORDER}
    rows = (
        Slot.objects.filter(point=point, active=True, is_compartment=True)
        .values("size")
        .annotate(n=Count("pk"))
        .values_list("size", "n")
    )
    sizes.update(dict(rows))
    return sizes
