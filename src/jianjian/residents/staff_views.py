"""The community admin's case desk: every report, its age, its parcel's custody trail."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from jianjian import access, clock
from jianjian.communities.phones import mask_phone
from jianjian.parcels.errors import InvalidInput
from jianjian.residents import cases
from jianjian.residents.forms import AnswerForm
from jianjian.residents.models import CaseState


def case_desk(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Staff sign in first; anyone who administers no community finds nothing here (404)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not access.admin_communities(request.user).exists():
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


@case_desk
def case_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "active")
    items = access.admin_cases(request.user).select_related("parcel", "resident__flat")
    if state == "active":
        items = items.exclude(state=CaseState.CLOSED)
    elif state in CaseState.values:
        items = items.filter(state=state)
    now = clock.now()
    rows = [
        {"case": c, "age": now - c.created_at, "overdue": cases.is_overdue(c, now)}
        for c in items.order_by("created_at")[:200]
    ]
    context = {"rows": rows, "state": state, "states": CaseState.choices}
    return render(request, "residents/staff_cases.html", context)


@case_desk
@require_http_methods(["GET", "POST"])
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = access.admin_case_for(request.user, pk)
    form = AnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cases.answer_case(
                case,
                request.user,  # type: ignore[arg-type]  # signed in: case_desk checked it
                form.cleaned_data["text"],
                close=form.cleaned_data["close"],
            )
        except InvalidInput as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Answer sent to the resident."))
            return redirect("residents:staff_case", pk=case.pk)
    now = clock.now()
    context = {
        "case": case,
        "form": form if case.state != CaseState.CLOSED else None,
        "notes": case.notes.select_related("author"),
        "events": case.parcel.events.select_related("point").order_by("seq"),
        "age": now - case.created_at,
        "overdue": cases.is_overdue(case, now),
        # The admin may need to call the resident back: the whole number is shown here only.
        "phone": case.resident.phone,
        "masked": mask_phone(case.resident.phone),
    }
    return render(request, "residents/staff_case.html", context)
