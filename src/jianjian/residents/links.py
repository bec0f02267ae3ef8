"""Linking a phone without a roster row to a flat: the person asks, a community admin decides.

Asking writes nothing but the question; approving writes the roster row, links it to the phone's
sign-in and records the decision in the console's audit log, all in one transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from jianjian import clock
from jianjian.communities.models import Community, Flat, Resident, normalize_flat_code
from jianjian.communities.phones import mask_phone
from jianjian.console import audit
from jianjian.parcels.errors import InvalidInput
from jianjian.residents.models import LinkRequest, LinkState, PhoneAccount

# A phone may ask this often a day in all (a hostile phone cannot fill the admin's queue).
ASKS_PER_DAY = 5
NAME_MAX = 50


def _flat(community: Community, raw: str) -> Flat:
    try:
        code = normalize_flat_code(raw)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), code="flat_invalid") from None
    flat = Flat.objects.filter(community=community, code=code).first()
    if flat is None:
        raise InvalidInput(
            _("There is no flat %(flat)s in %(community)s.")
            % {"flat": code, "community": community.name},
            code="flat_unknown",
        )
    return flat


def _name(raw: str) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise InvalidInput(_("Enter your name."), code="name_empty")
    if len(name) > NAME_MAX:
        raise InvalidInput(
            _("A name has at most %(n)d characters.") % {"n": NAME_MAX}, code="name_long"
        )
    return name


@transaction.atomic
def ask(phone: str, community: Community, flat_code: str, name: str) -> LinkRequest:
    """Ask to be linked to a flat; raise InvalidInput with a message for the person.

    The caller has checked (through access.phone_communities) that the phone has parcels in the
    community and no roster row there.
    """
    flat = _flat(community, flat_code)
    clean_name = _name(name)
    now = clock.now()
    if LinkRequest.objects.filter(
        phone=phone, community=community, state=LinkState.PENDING
    ).exists():
        raise InvalidInput(
            _("You have already asked. The community office will answer."), code="pending"
        )
    if (
        LinkRequest.objects.filter(phone=phone, created_at__gt=now - dt.timedelta(days=1)).count()
        >= ASKS_PER_DAY
    ):
        raise InvalidInput(
            _("Too many requests today. Please try again tomorrow."), code="throttled"
        )
    try:
        with transaction.atomic():
            return LinkRequest.objects.create(
                community=community,
                phone=phone,
                flat_code=flat.code,
                name=clean_name,
                created_at=now,
            )
    except IntegrityError:  # the same phone asked twice at the same moment
        raise InvalidInput(
            _("You have already asked. The community office will answer."), code="pending"
        ) from None


def _locked_pending(request_id: int) -> LinkRequest:
    link = LinkRequest.objects.select_for_update().select_related("community").get(pk=request_id)
    if link.state != LinkState.PENDING:
        raise InvalidInput(_("This request was already decided."), code="decided")
    return link


@transaction.atomic
def approve(link: LinkRequest, by: Any, flat_code: str = "") -> Resident:
    """Add the phone to the roster at the flat (the one asked for, or the admin's correction),
    link it to the phone's sign-in, and record the decision."""
    link = _locked_pending(link.pk)
    community = link.community
    flat = _flat(community, flat_code or link.flat_code)
    existing = Resident.objects.filter(community=community, phone=link.phone).first()
    if existing is not None:
        raise InvalidInput(
            _("This phone is already a resident of flat %(flat)s.") % {"flat": existing.flat.code},
            code="already_resident",
        )
    account = PhoneAccount.objects.filter(phone=link.phone).select_related("user").first()
    user = account.user if account is not None else None
    # Resident.user is one-to-one: only link an account that has no roster row yet (a phone in two
    # communities is found by phone in access anyway).
    if user is not None and Resident.objects.filter(user=user).exists():
        user = None
    try:
        with transaction.atomic():
            resident = Resident.objects.create(
                community=community, flat=flat, name=link.name, phone=link.phone, user=user
            )
    except IntegrityError:  # a roster import added the phone a moment ago
        raise InvalidInput(
            _("This phone was just added to the roster. Reload the page."),
            code="already_resident",
        ) from None
    now = clock.now()
    link.state = LinkState.APPROVED
    link.decided_at = now
    link.decided_by = by
    link.resident = resident
    link.flat_code = flat.code
    link.save(update_fields=["state", "decided_at", "decided_by", "resident", "flat_code"])
    audit.record(
        by,
        community,
        "approve",
        _("Linked %(phone)s to flat %(flat)s as %(name)s")
        % {"phone": mask_phone(link.phone), "flat": flat.code, "name": link.name},
        obj=resident,
        changes={"flat": [None, flat.code], "name": [None, link.name]},
    )
    return resident


@transaction.atomic
def refuse(link: LinkRequest, by: Any) -> LinkRequest:
    link = _locked_pending(link.pk)
    link.state = LinkState.REFUSED
    link.decided_at = clock.now()
    link.decided_by = by
    link.save(update_fields=["state", "decided_at", "decided_by"])
    audit.record(
        by,
        link.community,
        "refuse",
        _("Refused to link %(phone)s to flat %(flat)s")
        % {"phone": mask_phone(link.phone), "flat": link.flat_code},
        obj=link,
    )
    return link
