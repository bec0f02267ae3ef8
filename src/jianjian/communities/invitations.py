"""Inviting staff and couriers into a community, and taking them out again.

An admin invites a person by a user name the admin chooses: the account is created at once
(never ``is_staff``: the Django admin is the superuser's tool) with no usable password, with its
membership (clerk at their points, committee member, admin) or its courier row. The admin copies
a one-time link to the person; opening it lets them set their password, after which they are
signed in. The link's secret is random, only its SHA-256 hash is stored, it expires after
:data:`VALID_FOR` and works once; a new link revokes the older ones.

Deactivating takes the person out of *this* community: a staff member's membership is deleted
(the audit log keeps the record), a courier stops serving the community. When that leaves the
account with no role anywhere, the account itself is made inactive, so it can no longer sign in.
An admin of one community thus never locks a person out of another community's work.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from jianjian import clock
from jianjian.communities.models import Community, Invitation, Membership, StaffRole
from jianjian.communities.phones import normalize_phone
from jianjian.couriers.models import Carrier, Courier
from jianjian.points.models import CollectionPoint

VALID_FOR = dt.timedelta(days=7)
COURIER = "courier"


class InvitationInvalid(Exception):
    """The link is unknown, used, revoked or expired."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _issue(community: Community, user: Any, role: str, by: Any) -> str:
    """Revoke the user's open links in the community and make a new one; return its secret."""
    now = clock.now()
    Invitation.objects.filter(
        community=community, user=user, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    Invitation.objects.create(
        community=community,
        user=user,
        role=role,
        token_hash=_hash(token),
        created_by=by.get_username()[:150],
        created_at=now,
        expires_at=now + VALID_FOR,
    )
    return token


def _new_user(username: str, name: str) -> Any:
    user_model = get_user_model()
    if user_model.objects.filter(username__iexact=username).exists():
        raise ValidationError(
            {"username": _("The user name %(name)s is taken.") % {"name": username}}
        )
    try:
        with transaction.atomic():
            # No usable password until the person opens their link; never is_staff.
            return user_model.objects.create_user(
                username=username, password=None, first_name=name[:150]
            )
    except IntegrityError:
        raise ValidationError(
            {"username": _("The user name %(name)s is taken.") % {"name": username}}
        ) from None


@transaction.atomic
def invite_staff(
    community: Community,
    by: Any,
    *,
    username: str,
    name: str,
    role: str,
    points: Iterable[CollectionPoint] = (),
) -> tuple[Membership, str]:
    """A new account with ``role`` in ``community`` (a clerk at ``points``) and its link."""
    from jianjian.console import audit

    if role not in StaffRole.values:
        raise ValidationError({"role": _("Choose a role.")})
    points = [p for p in points if p.community_id == community.pk]
    if role == StaffRole.CLERK and not points:
        raise ValidationError({"points": _("A clerk works at one point at least; choose it.")})
    user = _new_user(username, name)
    membership = Membership.objects.create(user=user, community=community, role=role)
    if role == StaffRole.CLERK:
        membership.points.set(points)
    token = _issue(community, user, role, by)
    audit.record(
        by,
        community,
        "invite",
        _("%(user)s invited as %(role)s") % {"user": username, "role": StaffRole(role).label},
        membership,
        changes={"points": [None, [p.code for p in points]]} if points else None,
    )
    return membership, token


@transaction.atomic
def invite_courier(
    community: Community, by: Any, *, username: str, name: str, phone: str, carrier: Carrier
) -> tuple[Courier, str]:
    """A courier of ``carrier`` serving ``community``, and the link to set their password.

    A courier serves several communities: one the carrier already knows by this phone is the
    same person, so they start serving this community too (with no new account and no link if
    they already sign in) instead of becoming a second courier."""
    from jianjian.console import audit

    known = (
        Courier.objects.filter(carrier=carrier, phone=normalize_phone(phone), active=True)
        .select_related("user")
        .first()
    )
    if known is not None and known.user is not None:
        return _serve_too(community, by, known), ""
    user = _new_user(username, name)
    courier = known or Courier(carrier=carrier, name=name[:50], phone=phone)
    courier.user = user
    courier.save()
    courier.communities.add(community)
    token = _issue(community, user, COURIER, by)
    audit.record(
        by,
        community,
        "invite",
        _("%(user)s invited as a courier of %(carrier)s")
        % {"user": username, "carrier": carrier.name},
        courier,
    )
    return courier, token


def _serve_too(community: Community, by: Any, courier: Courier) -> Courier:
    from jianjian.console import audit

    if courier.communities.filter(pk=community.pk).exists():
        raise ValidationError(
            {"phone": _("%(name)s already serves this community.") % {"name": courier.name}}
        )
    courier.communities.add(community)
    audit.record(
        by,
        community,
        "invite",
        _("%(name)s, a courier of %(carrier)s with an account already, now serves the community")
        % {"name": courier.name, "carrier": courier.carrier.name},
        courier,
    )
    return courier


@transaction.atomic
def new_link(community: Community, by: Any, user: Any, role: str) -> str:
    """A fresh link for someone who has not set their password yet (the old one stops working)."""
    from jianjian.console import audit

    token = _issue(community, user, role, by)
    audit.record(
        by,
        community,
        "invite",
        _("New invitation link for %(user)s") % {"user": user.get_username()},
        user,
        object_type="user",
    )
    return token


def pending(community: Community, user_ids: Iterable[int]) -> dict[int, Invitation]:
    """The open (unused, unrevoked) invitation of each of the users, by user id."""
    found = Invitation.objects.filter(
        community=community,
        user_id__in=list(user_ids),
        accepted_at__isnull=True,
        revoked_at__isnull=True,
    ).order_by("created_at")
    return {inv.user_id: inv for inv in found}


# --- the invited person's side ---------------------------------------------------------------


def open_invitation(token: str) -> Invitation:
    """The invitation a link stands for, or :class:`InvitationInvalid` saying why not."""
    invitation = (
        Invitation.objects.filter(token_hash=_hash(token or "")).select_related("user").first()
    )
    if invitation is None or invitation.revoked_at is not None:
        raise InvitationInvalid(
            _(
                "This invitation link is not valid (a newer one may have been made). Ask your "
                "community admin for a new link."
            ),
            code="unknown",
        )
    if invitation.accepted_at is not None:
        raise InvitationInvalid(
            _("This invitation link was already used. Sign in with your user name and password."),
            code="used",
        )
    if invitation.expires_at <= clock.now() or not invitation.user.is_active:
        raise InvitationInvalid(
            _("This invitation link has expired. Ask your community admin for a new link."),
            code="expired",
        )
    return invitation


@transaction.atomic
def accept(token: str, password: str) -> Any:
    """Use the link once: set the account's password and return the user to sign in."""
    invitation = open_invitation(token)
    claimed = Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(accepted_at=clock.now())
    if claimed != 1:  # the same link used twice at once: the first one wins
        raise InvitationInvalid(
            _("This invitation link was already used. Sign in with your user name and password."),
            code="used",
        )
    user = invitation.user
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


# --- taking people out -----------------------------------------------------------------------


def _retire_if_roleless(user: Any) -> None:
    """Make the account inactive when it has no staff or courier role left anywhere."""
    if user is None or user.is_superuser:
        return
    if Membership.objects.filter(user=user).exists():
        return
    if Courier.objects.filter(user=user, active=True).exists():
        return
    user.is_active = False
    user.save(update_fields=["is_active"])


@transaction.atomic
def deactivate_member(community: Community, by: Any, membership: Membership) -> None:
    from jianjian.console import audit

    if membership.user_id == getattr(by, "pk", None):
        raise ValidationError(_("You cannot take yourself out of the community."))
    user = membership.user
    Invitation.objects.filter(community=community, user=user, accepted_at__isnull=True).update(
        revoked_at=clock.now()
    )
    audit.record(
        by,
        community,
        "deactivate",
        _("%(user)s (%(role)s) deactivated")
        % {"user": user.get_username(), "role": membership.get_role_display()},
        membership,
    )
    membership.delete()
    _retire_if_roleless(user)


@transaction.atomic
def deactivate_courier(community: Community, by: Any, courier: Courier) -> None:
    from jianjian.console import audit

    courier.communities.remove(community)
    if not courier.communities.exists():
        courier.active = False
        courier.save(update_fields=["active"])
    if courier.user is not None:
        Invitation.objects.filter(
            community=community, user=courier.user, accepted_at__isnull=True
        ).update(revoked_at=clock.now())
        _retire_if_roleless(courier.user)
    audit.record(
        by,
        community,
        "deactivate",
        _("Courier %(name)s (%(carrier)s) no longer serves the community")
        % {"name": courier.name, "carrier": courier.carrier.name},
        courier,
    )
