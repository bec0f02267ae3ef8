"""Phone numbers: parse to E.164 with ``phonenumbers``, and mask for display."""

from __future__ import annotations

import functools

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def normalize_phone(raw: str) -> str:
    """Return the number in E.164 (``+8613812345678``) or raise ValidationError."""
    text = (raw or "").strip()
    if not text:
        raise ValidationError(_("Enter a phone number."), code="phone_empty")
    return _e164(text, settings.PHONE_REGION)


# Parsing and validating with phonenumbers costs about half a millisecond, the most of any step of
# a typed intake; the same residents' phones are typed day after day. The answer depends only on
# the text and the region, so valid numbers are remembered (a refusal is an exception, never
# cached, so its message is always in the current language).
@functools.lru_cache(maxsize=8192)
def _e164(text: str, region: str) -> str:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            _("“%(phone)s” is not a phone number.") % {"phone": text}, code="phone_invalid"
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("“%(phone)s” is not a valid phone number.") % {"phone": text}, code="phone_invalid"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# Every parcel an answer or a page lists masks its phone through this: remembered like _e164.
@functools.lru_cache(maxsize=8192)
def national_digits(e164: str) -> str:
    """The number as a resident would say it, without the country code."""
    number = phonenumbers.parse(e164, None)
    return str(number.national_number)


def last4(e164: str) -> str:
    return e164[-4:]


def mask_phone(e164: str) -> str:
    """``+8613812345678`` → ``138****5678``: enough to recognise, not enough to call."""
    if not e164:
        return ""
    digits = national_digits(e164) if e164.startswith("+") else e164
    if len(digits) <= 4:
        return "*" * len(digits)
    head = digits[:3] if len(digits) >= 11 else digits[:2]
    return f"{head}{'*' * (len(digits) - len(head) - 4)}{digits[-4:]}"


def mask_name(name: str) -> str:
    """``张三`` → ``张*``; ``Wang Fang`` → ``W***``: the surname or initial only."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, min(len(name) - 1, 3))
