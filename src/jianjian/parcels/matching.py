"""Finding the resident a parcel belongs to: full phone, else last 4 digits + flat."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _

from jianjian import hotsql as sql
from jianjian.communities.models import Community, Flat, Resident, normalize_flat_code
from jianjian.communities.phones import last4, normalize_phone
from jianjian.notify.models import ResidentPreference
from jianjian.parcels.errors import AmbiguousRecipient, InvalidInput, ParcelError


@dataclass
class RecipientInfo:
    """What is known of the recipient, matched or not."""

    resident: Resident | None = None
    name: str = ""
    phone: str = ""
    last4: str = ""
    flat: Flat | None = None

    @property
    def empty(self) -> bool:
        return self.resident is None and not (self.name or self.phone or self.last4)


def _validation(exc: ValidationError) -> InvalidInput:
    return InvalidInput(" ".join(exc.messages), code=exc.code or "invalid_input")


@dataclass(frozen=True)
class Typed:
    """What the clerk typed about the recipient at one scan."""

    phone: str = ""
    phone_last4: str = ""
    flat: str = ""
    name: str = ""


def match_recipient(
    community: Community,
    *,
    phone: str = "",
    phone_last4: str = "",
    flat: str = "",
    name: str = "",
) -> RecipientInfo:
    """Match what the clerk typed to a resident; keep what was typed when nobody matches."""
    outcome = match_recipients(community, [Typed(phone, phone_last4, flat, name)])[0]
    if isinstance(outcome, ParcelError):
        raise outcome
    return outcome


def match_recipients(
    community: Community, typed: Sequence[Typed]
) -> list[RecipientInfo | ParcelError]:
    """:func:`match_recipient` for many scans with one read of the flats and one of the
    residents, whatever their number; each scan gets its match or the error it would raise."""
    codes = [_flat_code(t.flat) for t in typed]
    wanted = {c for c in codes if isinstance(c, str)}
    flats = (
        {f.code: f for f in Flat.objects.filter(community=community, code__in=wanted)}
        if wanted
        else {}
    )
    read: list[_Read | ParcelError] = []
    for t, code in zip(typed, codes, strict=True):
        try:
            read.append(_read(community, t, code, flats))
        except ParcelError as exc:
            read.append(exc)
    pending = [r for r in read if isinstance(r, _Read)]
    by_phone = _residents_by_phone(community, {r.info.phone for r in pending if r.by_phone})
    by_tail = _residents_by_tail(community, [r for r in pending if r.by_tail])
    return [r if isinstance(r, ParcelError) else r.finish(by_phone, by_tail) for r in read]


@dataclass
class _Read:
    """A scan's typed recipient, checked, waiting for the residents lookup."""

    info: RecipientInfo
    by_phone: bool = False
    by_tail: bool = False

    @property
    def tail_key(self) -> tuple[int, str]:
        assert self.info.flat is not None
        return self.info.flat.pk, self.info.last4

    def finish(
        self,
        by_phone: dict[str, Resident],
        by_tail: dict[tuple[int, str], list[Resident]],
    ) -> RecipientInfo | ParcelError:
        info = self.info
        if self.by_phone:
            info.resident = by_phone.get(info.phone)
        elif self.by_tail:
            found = by_tail.get(self.tail_key, [])[:5]
            if len(found) > 1:
                assert info.flat is not None
                return AmbiguousRecipient(
                    _(
                        "Several residents of %(flat)s have a phone ending in %(tail)s; type the full phone."
                    )
                    % {"flat": info.flat.code, "tail": info.last4},
                    candidates=[r.pk for r in found],
                )
            info.resident = found[0] if found else None
        return info


def _flat_code(raw: str) -> str | ParcelError | None:
    """The normalised flat code, None when nothing was typed, or why it is not a flat code."""
    if not raw.strip():
        return None
    try:
        return normalize_flat_code(raw)
    except ValidationError as exc:
        return _validation(exc)


def _read(
    community: Community, typed: Typed, code: str | ParcelError | None, flats: dict[str, Flat]
) -> _Read:
    """Check what was typed, in the order :func:`match_recipient` always has (the flat, then the
    phone, then the last 4 digits); raise the first thing wrong."""
    info = RecipientInfo(name=typed.name.strip()[:50])
    if isinstance(code, ParcelError):
        raise code
    if code is not None:
        info.flat = flats.get(code)
        if info.flat is None:
            raise _unknown_flat(community, code)
    if typed.phone.strip():
        try:
            info.phone = normalize_phone(typed.phone)
        except ValidationError as exc:
            raise _validation(exc) from None
        info.last4 = last4(info.phone)
        return _Read(info, by_phone=True)
    tail = typed.phone_last4.strip()
    if not tail:
        return _Read(info)
    if len(tail) != 4 or not tail.isdigit():
        raise InvalidInput(_("Type exactly the last 4 digits of the phone."), code="last4_invalid")
    if info.flat is None:
        raise InvalidInput(
            _("With the last 4 digits, also give the flat, e.g. 3-2-501."), code="flat_needed"
        )
    info.last4 = tail
    return _Read(info, by_tail=True)


def _unknown_flat(community: Community, code: str) -> InvalidInput:
    return InvalidInput(
        _("There is no flat %(flat)s in %(community)s.")
        % {"flat": code, "community": community.name},
        code="flat_unknown",
    )


def _residents_by_phone(community: Community, phones: set[str]) -> dict[str, Resident]:
    if not phones:
        return {}
    # With the flat: the parcel records the resident's flat too.
    # A resident who moved out (inactive) no longer receives new parcels.
    # A scan's hot path: the statement is what filter(community, phone__in, active)
    # .select_related("flat") sends, built once (jianjian/hotsql.py).
    where, params = sql.any_of("r.phone", sorted(phones))
    # With the resident's message preferences too: the intake that follows queues a message to
    # the resident, and reads them from the resident instead of asking again.
    text = sql.built(
        ("residents by phone", where),
        lambda: (
            f"SELECT {sql.column_list(Resident, 'r')}, {sql.column_list(Flat, 'f')}, "
            f"{sql.column_list(ResidentPreference, 'p')} "
            f"FROM {sql.table(Resident)} r JOIN {sql.table(Flat)} f ON f.id = r.flat_id "
            f"LEFT JOIN {sql.table(ResidentPreference)} p ON p.resident_id = r.id "
            f"WHERE r.community_id = %s AND {where} AND r.active = true"
        ),
    )
    with connection.cursor() as cursor:
        cursor.execute(text, [community.pk, *params])
        rows = cursor.fetchall()
    found = {}
    width = len(Resident._meta.concrete_fields) + len(Flat._meta.concrete_fields)
    for row in rows:
        resident, flat = sql.split(row[:width], Resident, Flat)
        assert isinstance(resident, Resident) and isinstance(flat, Flat)
        resident.flat = flat
        preference = sql.instance(ResidentPreference, row[width:]) if row[width] else None
        Resident.notify_preference.related.set_cached_value(resident, preference)
        found[resident.phone] = resident
    return found


def _residents_by_tail(
    community: Community, reads: list[_Read]
) -> dict[tuple[int, str], list[Resident]]:
    """The residents of each (flat, last 4 digits) asked for; the query may read a few more
    (flat × tail pairs nobody asked for), which are simply never looked up."""
    if not reads:
        return {}
    found: dict[tuple[int, str], list[Resident]] = {}
    residents = Resident.objects.filter(
        community=community,
        flat_id__in={r.tail_key[0] for r in reads},
        phone_last4__in={r.tail_key[1] for r in reads},
        active=True,
    ).select_related("flat")
    for resident in residents:
        found.setdefault((resident.flat_id, resident.phone_last4), []).append(resident)
    return found
