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
# Each grant texts the invited phone: these bound what one resident can spend on SMS and how
# often one phone can be messaged by the residents of the community.
PER_RESIDENT_PER_DAY = 5
PER_PHONE_PER_DAY = 2
MAX_LIVE_GRANTS = 10
DAY = dt.timedelta(days=1)


def _check_limits(resident: Resident, e164: str, now: dt.datetime) -> None:
    """Refuse a grant past a limit, with what to do about it."""
    mine = PickupProxy.objects.filter(resident=resident)
    if mine.filter(created_at__gt=now - DAY).count() >= PER_RESIDENT_PER_DAY:
        raise InvalidInput(
            _("You can invite at most %(max)d proxies a day; try again tomorrow.")
            % {"max": PER_RESIDENT_PER_DAY},
            code="too_many_invitations",
        )
    invited = PickupProxy.objects.filter(phone=e164, created_at__gt=now - DAY).count()
    if invited >= PER_PHONE_PER_DAY:
        raise InvalidInput(
            _("This phone has been invited %(max)d times today; try again tomorrow.")
            % {"max": PER_PHONE_PER_DAY},
            code="phone_invited_too_often",
        )
    live = mine.filter(revoked_at__isnull=True, valid_until__gt=now).count()
    if live >= MAX_LIVE_GRANTS:
        raise InvalidInput(
            _("You have %(max)d proxies already; revoke one before you add another.")
            % {"max": MAX_LIVE_GRANTS},
            code="too_many_proxies",
        )


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
    # One resident's grants are counted one at a time: two at once cannot both pass a limit.
    Resident.objects.select_for_update().filter(pk=resident.pk).first()
    _check_limits(resident, e164, now)
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
