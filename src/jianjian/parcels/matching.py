"""Finding the resident a parcel belongs to: full phone, else last 4 digits + flat."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from jianjian.communities.models import Community, Flat, Resident, normalize_flat_code
from jianjian.communities.phones import last4, normalize_phone
from jianjian.parcels.errors import AmbiguousRecipient, InvalidInput


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


def resolve_flat(community: Community, raw: str) -> Flat:
    try:
        code = normalize_flat_code(raw)
    except ValidationError as exc:
        raise _validation(exc) from None
    flat = Flat.objects.filter(community=community, code=code).first()
    if flat is None:
        raise InvalidInput(
            _("There is no flat %(flat)s in %(community)s.")
            % {"flat": code, "community": community.name},
            code="flat_unknown",
        )
    return flat


def match_recipient(
    community: Community,
    *,
    phone: str = "",
    phone_last4: str = "",
    flat: str = "",
    name: str = "",
) -> RecipientInfo:
    """Match what the clerk typed to a resident; keep what was typed when nobody matches."""
    info = RecipientInfo(name=name.strip()[:50])
    flat_obj = resolve_flat(community, flat) if flat.strip() else None
    info.flat = flat_obj
    if phone.strip():
        try:
            info.phone = normalize_phone(phone)
        except ValidationError as exc:
            raise _validation(exc) from None
        info.last4 = last4(info.phone)
        info.resident = Resident.objects.filter(community=community, phone=info.phone).first()
        return info
    tail = phone_last4.strip()
    if tail:
        if len(tail) != 4 or not tail.isdigit():
            raise InvalidInput(
                _("Type exactly the last 4 digits of the phone."), code="last4_invalid"
            )
        if flat_obj is None:
            raise InvalidInput(
                _("With the last 4 digits, also give the flat, e.g. 3-2-501."), code="flat_needed"
            )
        info.last4 = tail
        found = list(
            Resident.objects.filter(community=community, flat=flat_obj, phone_last4=tail)[:5]
        )
        if len(found) > 1:
            raise AmbiguousRecipient(
                _(
                    "Several residents of %(flat)s have a phone ending in %(tail)s; type the full phone."
                )
                % {"flat": flat_obj.code, "tail": tail},
                candidates=[r.pk for r in found],
            )
        info.resident = found[0] if found else None
    return info
