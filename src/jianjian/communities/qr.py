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


def make_token(resident_id: int, community_id: int) -> str:
    signer = signing.TimestampSigner(salt=SALT)
    return PREFIX + signer.sign_object({"r": resident_id, "c": community_id}, compress=False)


def read_token(text: str, community_id: int, max_age: dt.timedelta = QR_MAX_AGE) -> int:
    """Return the resident id of a valid token for ``community_id``; raise QRInvalid/QRExpired."""
    text = (text or "").strip()
    if not text.startswith(PREFIX):
        raise QRInvalid("not a jianjian pickup QR code")
    signer = signing.TimestampSigner(salt=SALT)
    try:
        payload = signer.unsign_object(text[len(PREFIX) :], max_age=max_age)
    except signing.SignatureExpired:
        raise QRExpired("the QR code has expired") from None
    except signing.BadSignature:
        raise QRInvalid("the QR code is not valid") from None
    if not isinstance(payload, dict) or payload.get("c") != community_id:
        raise QRInvalid("the QR code belongs to another community")
    return int(payload["r"])
