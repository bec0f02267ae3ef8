"""The dashboard and the exports, for the community's admins and committee members."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from jianjian import access, clock
from jianjian.communities.models import Community
from jianjian.points import disinfection
from jianjian.reports import charts, exports
from jianjian.reports.figures import MAX_DAYS, compute
from jianjian.stocktake.services import points_due


class RangeForm(forms.Form):
    # A context keeps these apart from other apps' "from"/"to" (the outbox's "to" is a recipient).
    start = forms.DateField(label=pgettext_lazy("date range", "from"))
    end = forms.DateField(label=pgettext_lazy("date range", "to"))

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise ValidationError(_("The end date is before the start date."))
            if (end - start).days + 1 > MAX_DAYS:
                raise ValidationError(
                    _("Choose at most %(days)s days at once.") % {"days": MAX_DAYS}
                )
        return data


def _today(community: Community) -> dt.date:
    return clock.now().astimezone(ZoneInfo(community.time_zone)).date()


def _range(request: HttpRequest, community: Community) -> tuple[RangeForm, dt.date, dt.date]:
    """The chosen range, or the last 14 days; a bad range is shown and the default used."""
    today = _today(community)
    default = {"start": today - dt.timedelta(days=13), "end": today}
    form = RangeForm(request.GET if "start" in request.GET else default)
    if form.is_valid():
        return form, form.cleaned_data["start"], form.cleaned_data["end"]
    return form, default["start"], default["end"]


@login_required
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    community = access.report_community_for(request.user, slug)
    form, start, end = _range(request, community)
    report = compute(community, start, end)
    labels = [f"{d:%m-%d}" for d in report.days]
    whole = report.series(None)
    flows = charts.bars(
        labels,
        [
            charts.Series(_("intake"), [f.intake for f in whole], "#0b6bcb"),
            charts.Series(_("handovers"), [f.handovers for f in whole], "#1a7f37"),
            charts.Series(_("returns"), [f.returns for f in whole], "#9a6700"),
        ],
        _("Parcels per day"),
    )
    levels = charts.lines(
        labels,
        [
            charts.Series(_("on hand"), [f.on_hand for f in whole], "#0b6bcb"),
            charts.Series(_("overdue"), [f.overdue for f in whole], "#9a6700"),
            charts.Series(_("dead"), [f.dead for f in whole], "#cf222e"),
        ],
        _("At the points at the end of each day"),
    )
    dwell = charts.lines(
        labels,
        [
            charts.Series(_("median"), [_round(f.dwell_median) for f in whole], "#1a7f37"),
            charts.Series(_("p90"), [_round(f.dwell_p90) for f in whole], "#cf222e"),
        ],
        _("Hours from intake to pickup"),
    )
    now = clock.now()
    overdue_tasks = list(
        disinfection.overdue_tasks(now).filter(community=community).order_by("point__code")
    )
    return render(
        request,
        "reports/dashboard.html",
        {
            "community": community,
            "form": form,
            "report": report,
            "charts": [flows, levels, dwell],
            "point_rows": [report.totals[p.pk] for p in report.points],
            "total": report.totals[None],
            "daily": list(reversed(whole)),
            "overdue_tasks": overdue_tasks,
            "stocktake_due": points_due(community, now),
            "query": request.GET.urlencode(),
            "datasets": [(key, ds.title) for key, ds in exports.DATASETS.items()],
        },
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@login_required
def export(request: HttpRequest, slug: str, dataset: str, fmt: str) -> HttpResponseBase:
    community = access.report_community_for(request.user, slug)
    if dataset not in exports.DATASETS or fmt not in ("csv", "xlsx"):
        raise Http404
    form, start, end = _range(request, community)
    if "start" in request.GET and not form.is_valid():
        return HttpResponse(
            " ".join(str(e) for e in form.non_field_errors()) or _("Choose valid dates."),
            status=400,
        )
    masked = not access.sees_private_details(request.user, community)
    rows = exports.rows(dataset, community, start, end, masked=masked)
    name = f"{community.slug}-{dataset}-{start:%Y%m%d}-{end:%Y%m%d}.{fmt}"
    if fmt == "csv":
        response = StreamingHttpResponse(
            exports.csv_stream(rows), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    title = str(exports.DATASETS[dataset].title)
    return FileResponse(
        exports.xlsx_file(rows, title),
        as_attachment=True,
        filename=name,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """The communities whose reports the user may read."""
    return render(
        request,
        "reports/index.html",
        {"communities": access.report_communities(request.user).order_by("name")},
    )
