"""Carrier recognition from a tracking number.

The rules are data: one row per number format. Add a carrier by adding a row, not a branch.
Formats overlap in the real world (STO's ``43…`` and Yunda's 15-digit ``4…``), so recognition
returns every carrier whose rule matches; the caller decides (or asks the clerk) when there is
more than one. A number no rule knows is still accepted, as carrier ``unknown``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

UNKNOWN = "unknown"

# code, Chinese name, English name — the carriers the product knows out of the box.
CARRIERS: tuple[tuple[str, str, str], ...] = (
    ("sf", "顺丰速运", "SF Express"),
    ("jd", "京东物流", "JD Logistics"),
    ("ems", "中国邮政 EMS", "China Post EMS"),
    ("zto", "中通快递", "ZTO Express"),
    ("yto", "圆通速递", "YTO Express"),
    ("sto", "申通快递", "STO Express"),
    ("yunda", "韵达快递", "Yunda Express"),
    ("jt", "极兔速递", "J&T Express"),
    ("deppon", "德邦快递", "Deppon Express"),
    ("cainiao", "菜鸟速递", "Cainiao"),
    (UNKNOWN, "未知快递", "Unknown carrier"),
)

# (carrier code, pattern). Patterns are matched against the normalised number (upper case).
RULES: tuple[tuple[str, str], ...] = (
    ("sf", r"SF[A-Z0-9]\d{12}"),
    ("jd", r"JD[A-Z0-9]{2}\d{11}"),
    ("jd", r"JDX\d{12}"),
    ("ems", r"[981]\d{12}"),
    ("ems", r"P[A-Z]\d{11}"),
    ("ems", r"[A-Z]{2}\d{9}[A-Z]{2}"),  # UPU S10 international, e.g. EA123456789CN
    ("zto", r"7[3-68]\d{12}"),
    ("yto", r"YT\d{13}"),
    ("sto", r"(77|43)\d{12,15}"),
    ("yunda", r"[34]\d{14}"),
    ("yunda", r"5\d{12}"),
    ("jt", r"JT\d{13}"),
    ("deppon", r"DPK\d{12}"),
    ("cainiao", r"621\d{12}"),
    ("cainiao", r"LP\d{14}"),
)

_COMPILED = tuple((code, re.compile(pattern)) for code, pattern in RULES)
_VALID = re.compile(r"[A-Z0-9]{5,40}")
# Separators people and scanners put inside numbers.
_STRIP = str.maketrans("", "", " \t\r\n-_/.")


@dataclass(frozen=True)
class Recognition:
    number: str
    candidates: tuple[str, ...]

    @property
    def carrier(self) -> str:
        """The one carrier, or ``unknown`` when none or several rules matched."""
        return self.candidates[0] if len(self.candidates) == 1 else UNKNOWN

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1


def normalize_tracking(raw: str) -> str:
    """Canonical form of a scanned or typed number.

    NFKC folds the full-width digits and letters a Chinese input method produces (``７３１``)
    into ASCII; separators are dropped and letters upper-cased. Raises ValidationError for text
    that cannot be a tracking number at all.
    """
    text = unicodedata.normalize("NFKC", raw or "").translate(_STRIP).upper()
    if not text:
        raise ValidationError(_("Scan or type a tracking number."), code="tracking_empty")
    if not _VALID.fullmatch(text):
        raise ValidationError(
            _("“%(number)s” is not a tracking number: use 5 to 40 letters and digits.")
            % {"number": (raw or "")[:50]},
            code="tracking_invalid",
        )
    return text


def recognize(raw: str) -> Recognition:
    number = normalize_tracking(raw)
    seen: list[str] = []
    for code, pattern in _COMPILED:
        if code not in seen and pattern.fullmatch(number):
            seen.append(code)
    return Recognition(number=number, candidates=tuple(seen))


def seed_carriers(carrier_model: type) -> None:
    """Create or refresh the known carriers (used by the data migration and by test set-up)."""
    for code, name, name_en in CARRIERS:
        carrier_model.objects.update_or_create(  # type: ignore[attr-defined]
            code=code, defaults={"name": name, "name_en": name_en}
        )
