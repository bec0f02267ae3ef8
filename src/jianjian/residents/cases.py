"""Complaint cases (接诉即办): every report reaches the community admin, who answers and closes it.

The resident is told each answer through the outbox, in the same transaction as the answer.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from jianjian import clock
from jianjian.communities.models import Membership, Resident, StaffRole
from jianjian.notify import outbox
from jianjian.parcels.errors import InvalidInput
from jianjian.parcels.models import Parcel
from jianjian.residents.models import Case, CaseKind, CaseNote, CaseState

# An unanswered case older than this is overdue on the admin's list (12345 asks for a reply the
# same day; a day leaves room for the night).
ANSWER_WITHIN = dt.timedelta(hours=24)
MAX_TEXT = 2000


def _text(raw: str) -> str:
    text = (raw or "").strip()
    if not text:
        raise InvalidInput(_("Please write a few words about it."), code="text_empty")
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            _("Please keep it under %(n)d characters.") % {"n": MAX_TEXT}, code="text_long"
        )
    return text


def is_overdue(case: Case, now: dt.datetime) -> bool:
    return case.state == CaseState.OPEN and now - case.created_at > ANSWER_WITHIN


@transaction.atomic
def open_case(resident: Resident, parcel: Parcel, kind: str, description: str) -> Case:
    """Report a problem with one of the resident's parcels.

    A second report of the same problem for the same parcel while the first is not closed (a
    double click, or impatience) adds to that case instead of opening another.
    """
    if kind not in CaseKind.values:
        raise InvalidInput(_("Choose what went wrong."), code="kind_invalid")
    if parcel.recipient_id != resident.pk:
        raise InvalidInput(_("This parcel is not yours."), code="parcel_invalid")
    text = _text(description)
    now = clock.now()
    case = (
        Case.objects.select_for_update()
        .filter(parcel=parcel, resident=resident, kind=kind)
        .exclude(state=CaseState.CLOSED)
        .first()
    )
    if case is None:
        case = Case.objects.create(
            community_id=parcel.community_id,
            parcel=parcel,
            resident=resident,
            kind=kind,
            description=text,
            created_at=now,
        )
        _tell_admins(case)
    elif not case.notes.filter(by_staff=False, text=text).exists() and case.description != text:
        CaseNote.objects.create(case=case, at=now, by_staff=False, text=text)
    return case


def _tell_admins(case: Case) -> None:
    """Admins with an e-mail address get the case in their inbox as well as on their list."""
    admins = Membership.objects.filter(
        community_id=case.community_id, role=StaffRole.ADMIN
    ).select_related("user")
    for membership in admins:
        if membership.user.email:
            outbox.enqueue(
                parcel=case.parcel,
                community_id=case.community_id,
                cause="case_opened",
                dedup_key=f"case:{case.pk}:opened:{membership.user_id}",
                address=membership.user.email,
                channel="email",
                body=_("New report #%(id)d (%(kind)s) about parcel …%(tail)s.")
                % {
                    "id": case.pk,
                    "kind": case.get_kind_display(),
                    "tail": case.parcel.tracking_number[-4:],
                },
            )


@transaction.atomic
def answer_case(case: Case, author: User, text: str, *, close: bool) -> CaseNote:
    """The admin's answer, optionally closing the case; the resident is told either way."""
    case = Case.objects.select_for_update().select_related("resident", "parcel").get(pk=case.pk)
    if case.state == CaseState.CLOSED:
        raise InvalidInput(_("This case is already closed."), code="case_closed")
    body = _text(text)
    now = clock.now()
    note = CaseNote.objects.create(case=case, at=now, by_staff=True, author=author, text=body)
    case.answered_at = case.answered_at or now
    case.state = CaseState.CLOSED if close else CaseState.ANSWERED
    if close:
        case.closed_at = now
    case.save(update_fields=["answered_at", "state", "closed_at"])
    community = case.resident.community
    outbox.enqueue(
        parcel=case.parcel,
        community_id=case.community_id,
        cause="case_answered",
        dedup_key=f"case:{case.pk}:note:{note.pk}",
        address=case.resident.phone,
        # An SMS template cannot carry the admin's free text: it says an answer is waiting.
        params={"id": str(case.pk)},
        body=(
            _("[%(community)s] Answer to your report #%(id)d (closed): %(text)s")
            if close
            else _("[%(community)s] Answer to your report #%(id)d: %(text)s")
        )
        % {"community": community.name, "id": case.pk, "text": body},
    )
    return note
