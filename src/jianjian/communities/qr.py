"""The resident's pickup QR code: a signed, expiring token bound to one resident.

The QR encodes ``JJ1:<signed token>``. The token carries the resident id and the community id,
is signed with the server's secret (Django's TimestampSigner), and expires, so a screenshot
forwarded to a stranger stops working after ``QR_MAX_AGE``.
"""

from __future__ import annotations

import datetime as dt

from django.core import signing

PREFIX = "JJ1:"
SALT = "jianjian.pickup-qr"
QR_MAX_AGE = dt.timedelta(minutes=10)


class QRInvalid(Exception):
    """Unreadable, tampered with, or for another community."""


class QRExpired(QRInvalid):
    pass


def sign_payload(prefix: str, salt: str, payload: dict[str, int]) -> str:
    """``prefix`` + a signed, timestamped ``payload``: the form of every pickup QR code."""
    return prefix + signing.TimestampSigner(salt=salt).sign_object(payload, compress=False)


def read_payload(
    text: str, prefix: str, salt: str, community_id: int, max_age: dt.timedelta = QR_MAX_AGE
) -> dict[str, int]:
    """The payload of a valid token of this kind for ``community_id``; raise QRInvalid/QRExpired.

    The prefix is read case-blind (a scanner in caps-lock mode); the signed part is not.
    """
    text = (text or "").strip()
    if text[: len(prefix)].upper() != prefix:
        raise QRInvalid("not a jianjian pickup QR code of this kind")
    try:
        payload = signing.TimestampSigner(salt=salt).unsign_object(
            text[len(prefix) :], max_age=max_age
        )
    except signing.SignatureExpired:
        raise QRExpired("the QR code has expired") from None
    except signing.BadSignature:
        raise QRInvalid("the QR code is not valid") from None
    if not isinstance(payload, dict) or payload.get("c") != community_id:
        raise QRInvalid("the QR code belongs to another community")
    return payload


def make_token(resident_id: int, community_id: int) -> str:
    return sign_payload(PREFIX, SALT, {"r": resident_id, "c": community_id})


def read_token(text: str, community_id: int, max_age: dt.timedelta = QR_MAX_AGE) -> int:
    """Return the resident id of a valid token for ``community_id``; raise QRInvalid/QRExpired."""
    payload = read_payload(text, PREFIX, SALT, community_id, max_age)
    if not isinstance(payload.get("r"), int):
        raise QRInvalid("the QR code is not valid")
    return payload["r"]
