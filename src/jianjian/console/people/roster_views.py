"""Roster import pages: upload → preview (what changes, each bad row) → confirm. The checked rows
wait server-side (:class:`RosterUpload`); the confirmation carries only its id and the tick."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from jianjian import access, uploads
from jianjian.communities import roster
from jianjian.console.people.forms import ConfirmForm, RosterForm

SHOWN = 200  # rows listed per kind of change in the preview; the counts are always complete


@login_required
def upload(request: HttpRequest, slug: str) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    form = RosterForm(request.POST or None, request.FILES or None)
    file_error = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data["file"]
        try:
            if data.size > roster.MAX_BYTES:
                raise uploads.UploadRefused(
                    _("The file is larger than %(mb)s MB.")
                    % {"mb": roster.MAX_BYTES // (1024 * 1024)},
                    code="too_large",
                )
            kept = roster.read_upload(community, data.name, data.read(), request.user)
        except uploads.UploadRefused as exc:
            file_error = exc.message
        else:
            return redirect("console:roster_preview", slug=slug, pk=kept.pk)
    context = {"community": community, "form": form, "file_error": file_error}
    status = 422 if file_error or form.errors else 200
    return render(request, "console/people/roster.html", context, status=status)


@login_required
def preview(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    kept = access.console_roster_upload_for(request.user, community, pk)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        try:
            outcome = roster.apply(
                kept, request.user, import_good_rows=form.cleaned_data["import_good_rows"]
            )
        except roster.RosterRefused as exc:
            refusal = exc.message
        else:
            messages.success(
                request,
                _(
                    "Roster imported: %(added)s added, %(changed)s changed, %(gone)s moved out, "
                    "%(same)s unchanged; %(flats)s flats created."
                )
                % {
                    "added": outcome.added,
                    "changed": outcome.changed,
                    "gone": outcome.deactivated,
                    "same": outcome.unchanged,
                    "flats": outcome.flats_created,
                },
            )
            return redirect("console:residents", slug=slug)
    plan = roster.make_plan(community, roster.rows_of(kept))
    context = {
        "community": community,
        "upload": kept,
        "plan": plan,
        "add": plan.add[:SHOWN],
        "change": plan.change[:SHOWN],
        "deactivate": plan.deactivate[:SHOWN],
        "errors": roster.errors_of(kept)[:1000],
        "error_count": len(kept.errors),
        "form": form,
        "refusal": refusal,
        "shown": SHOWN,
    }
    return render(
        request, "console/people/roster_preview.html", context, status=422 if refusal else 200
    )
