"""Sign-in without a password: a 6-digit one-time code sent to the phone.

Rules (docs/security.md): a code is valid 10 minutes and for 5 tries; a newer code replaces the
older; a used code never works again; a phone may ask for a code once a minute and 5 times an
hour, an address 20 times an hour. Only a keyed hash of the code is stored. Whether a phone is
known is never revealed: an unknown phone gets the same answer and no message. A phone is known
when a resident row, a live proxy grant or a parcel addressed to it names it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from jianjian import clock
from jianjian.communities.models import PickupProxy, Resident
from jianjian.communities.phones import mask_phone, normalize_phone
from jianjian.notify import outbox
from jianjian.parcels.models import Parcel
from jianjian.residents.models import PhoneAccount, SignInCode

CODE_TTL = dt.timedelta(minutes=10)
MAX_TRIES = 5
RESEND_AFTER = dt.timedelta(seconds=60)
PHONE_PER_HOUR = 5
IP_PER_HOUR = 20


class SignInError(Exception):
    """A sign-in step failed; ``message`` is translated and safe to show."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _hash(phone: str, code: str) -> str:
    return salted_hmac("jianjian.signin-code", f"{phone}:{code}", algorithm="sha256").hexdigest()


def parse_phone(raw: str) -> str:
    try:
        return normalize_phone(raw)
    except ValidationError as exc:
        raise SignInError(exc.messages[0], "phone_invalid") from None


def _community_of(phone: str, now: dt.datetime) -> int | None:
    """The community whose records know this phone: a resident row first, then a live proxy,
    then a parcel addressed to it (pre-advice or typed at intake) that no roster row claims —
    the phone is the resident's identity, as at any parcel station."""
    resident = Resident.objects.filter(phone=phone).order_by("pk").first()
    if resident is not None:
        return resident.community_id
    proxy = (
        PickupProxy.objects.filter(phone=phone, revoked_at__isnull=True, valid_until__gt=now)
        .order_by("pk")
        .first()
    )
    if proxy is not None:
        return proxy.community_id
    return (
        Parcel.objects.filter(recipient__isnull=True, recipient_phone=phone)
        .order_by("pk")
        .values_list("community_id", flat=True)
        .first()
    )


def _check_throttle(phone: str, ip: str | None, now: dt.datetime) -> None:
    recent = SignInCode.objects.filter(phone=phone, created_at__gt=now - dt.timedelta(hours=1))
    last = recent.order_by("-created_at").values_list("created_at", flat=True).first()
    if last is not None and now - last < RESEND_AFTER:
        wait = int((RESEND_AFTER - (now - last)).total_seconds()) + 1
        raise SignInError(
            ngettext(
                "A code was just sent. You can ask for another in %(n)d second.",
                "A code was just sent. You can ask for another in %(n)d seconds.",
                wait,
            )
            % {"n": wait},
            "too_soon",
        )
    too_many = recent.count() >= PHONE_PER_HOUR
    if not too_many and ip:
        too_many = (
            SignInCode.objects.filter(ip=ip, created_at__gt=now - dt.timedelta(hours=1)).count()
            >= IP_PER_HOUR
        )
    if too_many:
        raise SignInError(
            _("Too many codes were asked for. Please try again in an hour."), "throttled"
        )


@transaction.atomic
def request_code(raw_phone: str, ip: str | None) -> str:
    """Queue a code for the phone and return the phone in E.164; raise SignInError."""
    phone = parse_phone(raw_phone)
    now = clock.now()
    _check_throttle(phone, ip, now)
    code = f"{secrets.randbelow(1_000_000):06d}"
    # Only the newest code works: an older one still in a message is dead from now on.
    SignInCode.objects.filter(phone=phone, used_at__isnull=True).update(used_at=now)
    row = SignInCode.objects.create(
        phone=phone,
        ip=ip,
        code_hash=_hash(phone, code),
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    community_id = _community_of(phone, now)
    if community_id is not None:
        outbox.enqueue(
            parcel=None,
            community_id=community_id,
            cause="signin_code",
            dedup_key=f"signin:{row.pk}",
            address=phone,
            channel=settings.SIGNIN_CODE_CHANNEL,
            body=_(
                "[jianjian] Your sign-in code is %(code)s, valid for 10 minutes. "
                "Never tell it to anyone, staff included."
            )
            % {"code": code},
            params={"code": code},
        )
    return phone


@dataclass
class _Outcome:
    account: PhoneAccount | None = None
    error: SignInError | None = None


def verify_code(raw_phone: str, code: str, ip: str | None) -> PhoneAccount:
    """Return the phone's account if ``code`` is its live code; raise SignInError otherwise.

    A wrong guess is counted even though the caller sees an error, hence the outcome object
    instead of raising inside the transaction (which would roll the count back).
    """
    phone = parse_phone(raw_phone)
    code = "".join((code or "").split())
    with transaction.atomic():
        outcome = _verify(phone, code)
    if outcome.error is not None:
        raise outcome.error
    assert outcome.account is not None
    return outcome.account


def _verify(phone: str, code: str) -> _Outcome:
    now = clock.now()
    row = (
        SignInCode.objects.select_for_update()
        .filter(phone=phone, used_at__isnull=True)
        .order_by("-created_at")
        .first()
    )
    if row is None or row.expires_at <= now:
        return _Outcome(
            error=SignInError(
                _("This code has expired or was already used. Ask for a new code."), "expired"
            )
        )
    if not constant_time_compare(row.code_hash, _hash(phone, code)):
        row.attempts += 1
        left = MAX_TRIES - row.attempts
        if left <= 0:
            row.used_at = now
        row.save(update_fields=["attempts", "used_at"])
        if left <= 0:
            return _Outcome(
                error=SignInError(_("Too many wrong codes. Ask for a new code."), "locked")
            )
        return _Outcome(
            error=SignInError(
                ngettext("Wrong code. %(n)d try left.", "Wrong code. %(n)d tries left.", left)
                % {"n": left},
                "wrong",
            )
        )
    row.used_at = now
    row.save(update_fields=["used_at"])
    if _community_of(phone, now) is None:
        # Guessed a code for a phone we never texted: answer as for any wrong code.
        return _Outcome(error=SignInError(_("Wrong code."), "wrong"))
    return _Outcome(account=_account(phone, now))


def _account(phone: str, now: dt.datetime) -> PhoneAccount:
    account = PhoneAccount.objects.filter(phone=phone).select_related("user").first()
    if account is None:
        # No password at all (unusable): this user can only ever sign in with a code.
        # The user name shows in page headers: masked, plus a keyed tag to keep it unique.
        tag = salted_hmac("jianjian.phone-user", phone).hexdigest()[:6]
        username = f"{mask_phone(phone)}-{tag}"
        user = get_user_model().objects.create_user(username=username, password=None)
        account = PhoneAccount.objects.create(user=user, phone=phone)
    account.last_sign_in_at = now
    account.save(update_fields=["last_sign_in_at"])
    # The core's resident_of() reads Resident.user (one-to-one): link the first resident row of
    # this phone. Residents of the same phone in other communities are found by phone in access.
    if not Resident.objects.filter(user=account.user).exists():
        first = Resident.objects.filter(phone=phone, user__isnull=True).order_by("pk").first()
        if first is not None:
            first.user = account.user
            first.save(update_fields=["user"])
    return account
