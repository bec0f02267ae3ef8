"""Choosing a slot and a pickup code for a parcel arriving at a point.

Called only from the lifecycle services, inside their transaction, with the point row locked:
that lock is what makes the code sequence and the locker occupancy race-free.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from jianjian import hotsql as sql
from jianjian.parcels.errors import InvalidInput, NoRoom
from jianjian.parcels.models import CODE_HOLDING_STATES, Parcel, ParcelState
from jianjian.points.models import SIZE_ORDER, CollectionPoint, Slot

# Codes cycle through 001…9999; at the seed's 50 parcels a day they stay three digits for weeks.
CODE_CYCLE = 9999
# The states that hold a code, as SQL literals (see CodeBook._held_among).
_HOLDING_STATES = ", ".join(f"'{state}'" for state in CODE_HOLDING_STATES)


def choose_slot(
    point: CollectionPoint,
    size: str,
    wanted: Slot | None = None,
    slots: list[Slot] | None = None,
) -> Slot:
    """The clerk's choice if it fits, else the next shelf tier in turn or the smallest free
    compartment that fits.

    ``slots`` is the point's active slots in (shelf, tier) order when the caller has read them
    already (a batch reads them once); otherwise they are read here.
    """
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
    if slots is None:
        shelf = _next_shelf_alone(point)
        if shelf is not None:
            return shelf
        slots = active_slots(point)
    shelves = [s for s in slots if not s.is_compartment]
    if shelves:
        return next_shelf(point, shelves)
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


def _next_shelf_alone(point: CollectionPoint) -> Slot | None:
    """:func:`next_shelf` among the point's active shelves, building only the slot chosen (a
    counter has dozens of shelf tiers; a scan needs one); None when it has no shelves."""
    is_compartment = [f.attname for f in Slot._meta.concrete_fields].index("is_compartment")
    shelves = [row for row in _slot_rows(point) if not row[is_compartment]]
    if not shelves:
        return None
    return sql.instance(Slot, shelves[point.code_seq % len(shelves)])


def _slots_sql() -> str:
    return sql.select_sql(
        Slot, "community_id = %s AND point_id = %s AND active = %s", "ORDER BY shelf, tier"
    )


def active_slots(point: CollectionPoint) -> list[Slot]:
    return [sql.instance(Slot, row) for row in _slot_rows(point)]


# Each point's active slot rows, in (shelf, tier) order, with the layout version of the point
# they were read for: every scan chooses a slot, and the slots change only when the point is laid
# out again, which raises its version (points/layout_triggers.py). Rows, not instances: each
# scan builds its own.
_SLOT_ROWS: dict[int, tuple[int, list[tuple[Any, ...]]]] = {}
_SLOT_ROWS_MAX = 10_000


def _slot_rows(point: CollectionPoint) -> list[tuple[Any, ...]]:
    cached = _SLOT_ROWS.get(point.pk)
    if cached is not None and cached[0] == point.layout_version:
        return cached[1]
    # Names the community as well as the point: the tenant key routes the query (docs/scale.md).
    with connection.cursor() as cursor:
        cursor.execute(_slots_sql(), [point.community_id, point.pk, True])
        rows = [tuple(row) for row in cursor.fetchall()]
    if len(_SLOT_ROWS) >= _SLOT_ROWS_MAX:
        _SLOT_ROWS.clear()
    # Stored under the version the point was read at: rows read after it are as new or newer,
    # and a scan that locked the point sees them exactly (a slot change waits for its lock).
    _SLOT_ROWS[point.pk] = (point.layout_version, rows)
    return rows


def next_shelf(point: CollectionPoint, shelves: list[Slot]) -> Slot:
    """Round-robin over the tiers, driven by the point's code sequence: the stock spreads evenly,
    and choosing costs one read of the point's dozen slots instead of a count over every parcel
    on hand."""
    return shelves[point.code_seq % len(shelves)]


def pickup_code(point: CollectionPoint, slot: Slot, seq: int) -> str:
    return f"{point.code}{slot.shelf}-{slot.tier}-{seq:03d}"


def following_seq(seq: int) -> int:
    """The code sequence number after ``seq``: 1…CODE_CYCLE, then 1 again."""
    return seq % CODE_CYCLE + 1


class CodeBook:
    """Hands out a point's pickup codes, skipping codes still held, with at most two reads of
    which codes are held.

    It first asks about the codes it expects to hand out (:meth:`probe`: a batch's next codes,
    or one scan's next code), which nearly always are free. Only when one of them turns out held
    (the sequence came round while parcels of its last round are still there) does it read every
    code held at the point, once, and decide the rest from that.

    Lives inside one transaction that holds the point's lock: nothing else can take or free a
    code of this point meanwhile, so what it has read stays true, and it counts each code it
    hands out as held. Whoever writes a code of the point by other means starts a new book.
    """

    def __init__(self, point: CollectionPoint, *, trusting: bool = False) -> None:
        self.point = point
        # Trusting: hand out the sequence's next code without asking whether it is held. For a
        # caller that inserts it under the unique index on live codes and, refused, asks again.
        self.trusting = trusting
        self._held: set[str] = set()
        self._free: set[str] = set()
        self._asked = False
        self._complete = False  # every held code is in _held

    def probe(self, codes: Iterable[str]) -> None:
        """Learn in one query which of ``codes`` are held by a parcel at the point."""
        unknown = {c for c in codes if not self._knows(c)}
        if not unknown:
            return
        self._asked = True
        held = self._held_among(sorted(unknown))
        self._held |= held
        self._free |= unknown - held

    def take(self, slot: Slot) -> str:
        """``A2-3-017``: point, shelf-tier, sequence. Skips any code still held at the point.

        Advances ``point.code_seq``; the caller saves the point.
        """
        point = self.point
        for _attempt in range(CODE_CYCLE):
            point.code_seq = following_seq(point.code_seq)
            code = pickup_code(point, slot, point.code_seq)
            if not self._knows(code) and not self.trusting:
                if self._asked:
                    self._read_all()
                else:
                    self.probe([code])
            if code not in self._held:
                self._free.discard(code)
                self._held.add(code)
                return code
        raise NoRoom(_("Every pickup code of %(point)s is in use.") % {"point": point.name})

    def _knows(self, code: str) -> bool:
        return self._complete or code in self._held or code in self._free

    def _read_all(self) -> None:
        self._held |= set(self._held_codes())
        self._complete = True

    def _held_among(self, codes: list[str]) -> set[str]:
        """Which of ``codes`` a parcel at the point holds: ``_held_codes()`` narrowed to them, in
        a statement built once (one scan asks about one code, a batch about fifty)."""
        where, params = sql.any_of("pickup_code", codes)
        # The states are written into the text, not bound: a statement PostgreSQL prepares can
        # then use the partial unique index on live codes, whose condition names them.
        text = sql.built(
            ("code probe", where),
            lambda: (
                f"SELECT pickup_code FROM {sql.table(Parcel)} WHERE community_id = %s "
                f"AND point_id = %s AND state IN ({_HOLDING_STATES}) AND {where}"
            ),
        )
        with connection.cursor() as cursor:
            cursor.execute(text, [self.point.community_id, self.point.pk, *params])
            return {code for (code,) in cursor.fetchall()}

    def _held_codes(self) -> QuerySet[Parcel, str]:
        return Parcel.objects.filter(
            community_id=self.point.community_id,
            point=self.point,
            state__in=CODE_HOLDING_STATES,
        ).values_list("pickup_code", flat=True)


def next_pickup_code(point: CollectionPoint, slot: Slot, *, trusting: bool = False) -> str:
    """The next free code of ``slot`` (see :meth:`CodeBook.take`); advances ``point.code_seq``.
    ``trusting``: the next code in sequence, unasked (see :class:`CodeBook`)."""
    return CodeBook(point, trusting=trusting).take(slot)


def normalize_code(raw: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKC", raw or "").strip().upper().replace(" ", "")
