"""Proxy grants: a resident lets another phone collect one parcel, or everything for a while."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from jianjian import clock
from jianjian.communities.models import PickupProxy, Resident
from jianjian.communities.phones import mask_name
from jianjian.notify import outbox
from jianjian.parcels.errors import InvalidInput
from jianjian.parcels.models import Parcel, ParcelState
from jianjian.parcels.policy import hold_period
from jianjian.residents.otp import SignInError, parse_phone

MAX_DAYS = 30


@transaction.atomic
def grant(
    resident: Resident,
    *,
    phone: str,
    name: str = "",
    parcel: Parcel | None = None,
    days: int | None = None,
) -> PickupProxy:
    """Authorise ``phone`` for one parcel (until it is collected or dead) or for ``days`` days."""
    try:
        e164 = parse_phone(phone)
    except SignInError as exc:
        raise InvalidInput(exc.message, code="phone_invalid") from None
    if e164 == resident.phone:
        raise InvalidInput(_("That is your own number."), code="own_phone")
    now = clock.now()
    if parcel is not None:
        if parcel.recipient_id != resident.pk or parcel.state not in (
            ParcelState.ANNOUNCED,
            ParcelState.AT_POINT,
        ):
            raise InvalidInput(_("This parcel is not waiting for you."), code="parcel_invalid")
        until = (parcel.intake_at or now) + hold_period(resident.community)
    else:
        if days is None or not 1 <= days <= MAX_DAYS:
            raise InvalidInput(
                _("Choose a period of 1 to %(max)d days.") % {"max": MAX_DAYS},
                code="period_invalid",
            )
        until = now + dt.timedelta(days=days)
    proxy = PickupProxy.objects.create(
        community=resident.community,
        resident=resident,
        phone=e164,
        name=name.strip()[:50],
        parcel=parcel,
        valid_until=until,
    )
    outbox.enqueue(
        parcel=parcel,
        community_id=resident.community_id,
        cause="proxy_granted",
        dedup_key=f"proxy:{proxy.pk}:granted",
        address=e164,
        params={"name": mask_name(resident.name), "flat": resident.flat.code},
        body=_(
            "[%(community)s] %(name)s (flat %(flat)s) asked you to collect their parcels. "
            "Sign in to jianjian with this phone number to see them and your pickup QR code."
        )
        % {
            "community": resident.community.name,
            "name": mask_name(resident.name),
            "flat": resident.flat.code,
        },
    )
    return proxy


def revoke(proxy: PickupProxy) -> PickupProxy:
    """From now on the proxy sees nothing and no counter accepts them. Idempotent."""
    if proxy.revoked_at is None:
        proxy.revoked_at = clock.now()
        proxy.save(update_fields=["revoked_at"])
    return proxy
