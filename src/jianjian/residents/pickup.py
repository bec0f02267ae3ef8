"""What a resident or proxy shows at the counter: pickup QR codes, rendered inline as SVG.

A resident's QR is :func:`jianjian.communities.qr.make_token` (resident + community, signed,
expiring). A proxy's QR is a token of its own kind (``JJ1P:``) naming the proxy grant, so that a
counter reading it with :func:`read_proxy_token` hands over only what that grant covers, records
the proxy as the holder, and refuses it once the grant is revoked or expired. The resident's
:func:`~jianjian.communities.qr.read_token` refuses a proxy token (wrong prefix), so a proxy's
screenshot can never pass for the resident's own code.
"""

from __future__ import annotations

import datetime as dt

import segno
from django.utils.safestring import SafeString, mark_safe

from jianjian import clock
from jianjian.communities.models import PickupProxy, Resident
from jianjian.communities.qr import (
    QR_MAX_AGE,
    QRInvalid,
    make_token,
    read_payload,
    sign_payload,
)

PROXY_PREFIX = "JJ1P:"
PROXY_SALT = "jianjian.proxy-pickup-qr"


class ProxyInactive(QRInvalid):
    """The QR is genuine, but the grant it names was revoked or has run out."""


def resident_token(resident: Resident) -> str:
    return make_token(resident.pk, resident.community_id)


def make_proxy_token(proxy: PickupProxy) -> str:
    return sign_payload(PROXY_PREFIX, PROXY_SALT, {"p": proxy.pk, "c": proxy.community_id})


def read_proxy_token(
    text: str, community_id: int, max_age: dt.timedelta = QR_MAX_AGE
) -> PickupProxy:
    """The live proxy grant a proxy's QR names; raise QRInvalid / QRExpired otherwise.

    ProxyInactive (a QRInvalid) says the grant itself is over, so the counter can tell the
    clerk why rather than "not valid".
    """
    payload = read_payload(text, PROXY_PREFIX, PROXY_SALT, community_id, max_age)
    proxy_id = payload.get("p")
    if not isinstance(proxy_id, int):
        raise QRInvalid("the QR code is not valid")
    proxy = PickupProxy.objects.filter(pk=proxy_id, community_id=community_id).first()
    if proxy is None or not proxy.is_active(clock.now()):
        raise ProxyInactive("this proxy may no longer collect")
    return proxy


def qr_svg(text: str) -> SafeString:
    """The QR as inline SVG markup (no image request, nothing for the CSP to allow)."""
    svg = segno.make(text, error="m").svg_inline(scale=5, border=2, dark="#1d2a35")
    return mark_safe(svg)


def valid_until() -> dt.datetime:
    return clock.now() + QR_MAX_AGE


# A phone without a roster row shows a QR of its own kind (``JJ1H:``). It names one of the
# phone's parcels rather than the phone, so a glance at the QR text reveals no number; the
# counter collects every waiting parcel addressed to the same phone with no roster row.
PHONE_PREFIX = "JJ1H:"
PHONE_SALT = "jianjian.phone-pickup-qr"


def make_phone_token(parcel_id: int, community_id: int) -> str:
    return sign_payload(PHONE_PREFIX, PHONE_SALT, {"h": parcel_id, "c": community_id})


def read_phone_token(text: str, community_id: int, max_age: dt.timedelta = QR_MAX_AGE) -> str:
    """The phone a phone QR stands for; raise QRInvalid / QRExpired otherwise."""
    from jianjian.parcels.models import Parcel

    payload = read_payload(text, PHONE_PREFIX, PHONE_SALT, community_id, max_age)
    parcel_id = payload.get("h")
    if not isinstance(parcel_id, int):
        raise QRInvalid("the QR code is not valid")
    phone = (
        Parcel.objects.filter(pk=parcel_id, community_id=community_id, recipient__isnull=True)
        .values_list("recipient_phone", flat=True)
        .first()
    )
    if not phone:
        raise QRInvalid("the QR code is not valid")
    return phone
