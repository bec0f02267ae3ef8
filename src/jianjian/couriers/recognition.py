"""Carrier recognition from a tracking number.

The rules are data (``carrier_rules.json``): one row per number format, with the source that
documents it and, where the carrier defines one, the check digit to verify. Add a carrier by
adding rows, not a branch. Formats overlap in the real world (STO's ``43…`` and Yunda's 15-digit
``4…``), so recognition returns every carrier whose rule fits; the caller decides (or asks the
clerk) when there is more than one. Numeric international formats (a DHL waybill is any 10 or 11
digits with a mod-7 check) are *fallbacks*, considered only when no other rule fits, so a
domestic number is not made ambiguous by a foreign format it happens to satisfy. A number no rule
knows is still accepted, as carrier ``unknown``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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
    ("best", "百世快递", "Best Express"),
    ("danniao", "丹鸟", "Danniao"),
    ("dhl", "DHL", "DHL Express"),
    ("fedex", "联邦快递", "FedEx"),
    ("ups", "UPS", "UPS"),
    (UNKNOWN, "未知快递", "Unknown carrier"),
)


# --- check digits -----------------------------------------------------------------------------


def _digits(text: str) -> list[int]:
    return [int(c) for c in text]


def _s10(number: str) -> bool:
    """UPU S10: weights 8 6 4 2 3 5 9 7 over the serial; 11 − sum mod 11, 10 → 0, 11 → 5."""
    weights = (8, 6, 4, 2, 3, 5, 9, 7)
    weighted = sum(d * w for d, w in zip(_digits(number[2:10]), weights, strict=True))
    check = 11 - weighted % 11
    return {10: 0, 11: 5}.get(check, check) == int(number[10])


def _ups(number: str) -> bool:
    """UPS 1Z: letters count as (ord − 63) mod 10; every second character doubled; mod 10."""
    body = number[2:-1]
    values = [int(c) if c.isdigit() else (ord(c) - 63) % 10 for c in body]
    total = sum(v * (2 if i % 2 else 1) for i, v in enumerate(values))
    return number[-1].isdigit() and (10 - total % 10) % 10 == int(number[-1])


def _mod10(digits: str) -> bool:
    """GS1-style mod 10: from the right, odd positions ×3."""
    body = _digits(digits[:-1])
    total = sum(v * (3 if i % 2 == 0 else 1) for i, v in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == int(digits[-1])


def _fedex12(number: str) -> bool:
    body = _digits(number[:-1])
    total = sum(v * (3, 1, 7)[i % 3] for i, v in enumerate(body))
    return total % 11 % 10 == int(number[-1])


def _mod7(number: str) -> bool:
    return int(number[:-1]) % 7 == int(number[-1])


CHECKS: dict[str, Callable[[str], bool]] = {
    "s10": _s10,
    "ups": _ups,
    "mod10": _mod10,
    "fedex12": _fedex12,
    "fedex96": lambda number: _mod10(number[7:]),
    "mod7": _mod7,
}


# --- the rules --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    carrier: str
    pattern: re.Pattern[str]
    check: Callable[[str], bool] | None
    fallback: bool
    source: str

    def fits(self, number: str) -> bool:
        return bool(self.pattern.fullmatch(number)) and (self.check is None or self.check(number))


RULES_FILE = Path(__file__).with_name("carrier_rules.json")


def load_rules(path: Path = RULES_FILE) -> tuple[Rule, ...]:
    """Read and validate the rules file: a bad row stops the process at start, not at a scan."""
    known = {code for code, _name, _en in CARRIERS}
    rules = []
    for row in json.loads(path.read_text(encoding="utf-8"))["rules"]:
        if row["carrier"] not in known or not row.get("source"):
            raise ValueError(f"carrier rule without a known carrier or a source: {row}")
        rules.append(
            Rule(
                carrier=row["carrier"],
                pattern=re.compile(row["pattern"]),
                check=CHECKS[row["check"]] if row.get("check") else None,
                fallback=bool(row.get("fallback", False)),
                source=row["source"],
            )
        )
    return tuple(rules)


RULES = load_rules()
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
    candidates = _fitting(number, fallback=False) or _fitting(number, fallback=True)
    return Recognition(number=number, candidates=candidates)


def _fitting(number: str, *, fallback: bool) -> tuple[str, ...]:
    seen: list[str] = []
    for rule in RULES:
        if rule.fallback == fallback and rule.carrier not in seen and rule.fits(number):
            seen.append(rule.carrier)
    return tuple(seen)


def seed_carriers(carrier_model: type) -> None:
    """Create or refresh the known carriers (used by the data migration and by test set-up)."""
    for code, name, name_en in CARRIERS:
        carrier_model.objects.update_or_create(  # type: ignore[attr-defined]
            code=code, defaults={"name": name, "name_en": name_en}
        )
