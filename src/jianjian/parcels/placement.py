"""Choosing a slot and a pickup code for a parcel arriving at a point.

Called only from the lifecycle services, inside their transaction, with the point row locked:
that lock is what makes the code sequence and the locker occupancy race-free.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from jianjian.parcels.errors import InvalidInput, NoRoom
from jianjian.parcels.models import CODE_HOLDING_STATES, Parcel, ParcelState
from jianjian.points.models import SIZE_ORDER, CollectionPoint, Slot

# Codes cycle through 001…9999; at the seed's 50 parcels a day they stay three digits for weeks.
CODE_CYCLE = 9999


def choose_slot(point: CollectionPoint, size: str, wanted: Slot | None = None) -> Slot:
    """The clerk's choice if it fits, else the next shelf tier in turn or the smallest free
    compartment that fits."""
    if wanted is not None:
        if wanted.point_id != point.pk or not wanted.active:
            raise InvalidInput(
                _("Slot %(slot)s is not a slot of %(point)s.")
                % {"slot": wanted.label, "point": point.name},
                code="slot_invalid",
            )
        if wanted.is_compartment:
            if SIZE_ORDER[wanted.size] < SIZE_ORDER[size]:
                raise NoRoom(
                    _("Compartment %(slot)s is too small for this parcel.") % {"slot": wanted.label}
                )
            if Parcel.objects.filter(slot=wanted, state=ParcelState.AT_POINT).exists():
                raise NoRoom(_("Compartment %(slot)s is taken.") % {"slot": wanted.label})
        return wanted
    slots = list(Slot.objects.filter(point=point, active=True).order_by("shelf", "tier"))
    shelves = [s for s in slots if not s.is_compartment]
    if shelves:
        # Round-robin over the tiers, driven by the point's code sequence: the stock spreads
        # evenly, and choosing costs one read of the point's dozen slots instead of a count over
        # every parcel on hand.
        return shelves[point.code_seq % len(shelves)]
    fitting = [s for s in slots if s.is_compartment and SIZE_ORDER[s.size] >= SIZE_ORDER[size]]
    occupied = (
        set(
            Parcel.objects.filter(
                point=point, state=ParcelState.AT_POINT, slot__in=fitting
            ).values_list("slot_id", flat=True)
        )
        if fitting
        else set()
    )
    free = [s for s in fitting if s.pk not in occupied]
    if not free:
        if not slots:
            raise NoRoom(
                _("%(point)s has no slots yet; an admin must add shelves or compartments.")
                % {"point": point.name}
            )
        raise NoRoom(
            _("No free compartment of size %(size)s or larger at %(point)s.")
            % {"size": size, "point": point.name}
        )
    return min(free, key=lambda s: (SIZE_ORDER[s.size], s.shelf, s.tier))


def next_pickup_code(point: CollectionPoint, slot: Slot) -> str:
    """``A2-3-017``: point, shelf-tier, sequence. Skips any code still held at the point.

    Advances ``point.code_seq``; the caller saves the point.
    """
    held = Parcel.objects.filter(point=point, state__in=CODE_HOLDING_STATES)
    for _attempt in range(CODE_CYCLE):
        point.code_seq = point.code_seq % CODE_CYCLE + 1
        code = f"{point.code}{slot.shelf}-{slot.tier}-{point.code_seq:03d}"
        if not held.filter(pickup_code=code).exists():
            return code
    raise NoRoom(_("Every pickup code of %(point)s is in use.") % {"point": point.name})


def normalize_code(raw: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKC", raw or "").strip().upper().replace(" ", "")
