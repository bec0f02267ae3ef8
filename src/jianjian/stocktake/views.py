"""Clerk pages for a point's upkeep: stocktake (live, htmx), missing-parcel cases, disinfection.

Thin: each view reads the request, asks :mod:`jianjian.access` what the user may touch, calls a
service and renders. Domain errors come back as the clerk's translated message.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from jianjian import access, clock
from jianjian.parcels.errors import ParcelError
from jianjian.parcels.services import Actor
from jianjian.points import disinfection
from jianjian.points.models import DisinfectionLog, DisinfectionTask
from jianjian.stocktake import services as st
from jianjian.stocktake.models import MissingCase, Stocktake, StocktakeStatus

# --- stocktake -------------------------------------------------------------------------------


def _stocktake(request: HttpRequest, pk: int) -> Stocktake:
    return get_object_or_404(
        Stocktake.objects.select_related("point", "point__community"),
        pk=pk,
        point__in=access.clerk_points(request.user),
    )


@login_required
def point_stocktake(request: HttpRequest, point_id: int) -> HttpResponse:
    """The point's stocktake page: the one under way, or a button to start one; past reports."""
    point = access.point_for(request.user, point_id)
    if request.method == "POST":
        take = st.start(point, actor=Actor.of(request.user))  # type: ignore[arg-type]
        return redirect("stocktake:session", pk=take.pk)
    return render(
        request,
        "stocktake/point.html",
        {
            "point": point,
            "live": st.live_for(point),
            "past": point.stocktakes.filter(status=StocktakeStatus.FINISHED)[:20],
        },
    )


def _session_context(take: Stocktake, error: str = "", last: st.Line | None = None) -> dict:  # type: ignore[type-arg]
    return {"take": take, "ov": st.overview(take), "error": error, "last": last}


@login_required
def session(request: HttpRequest, pk: int) -> HttpResponse:
    take = _stocktake(request, pk)
    if not take.is_live:
        return redirect("stocktake:report", pk=take.pk)
    last = st.scanned_line(take, request.GET.get("last", "")[:60])
    return render(request, "stocktake/session.html", _session_context(take, last=last))


def _panel(request: HttpRequest, take: Stocktake, error: str = "", last=None) -> HttpResponse:  # type: ignore[no-untyped-def]
    take.refresh_from_db()
    context = _session_context(take, error, last)
    if request.headers.get("HX-Request"):
        return render(request, "stocktake/_panel.html", context, status=422 if error else 200)
    if error:
        messages.error(request, error)
    to = redirect("stocktake:session", pk=take.pk)
    if last is not None:
        # Without htmx (a scan before the page's script ran, or none at all) the page it comes
        # back to says what the scan found, as the live panel would.
        to["Location"] += "?" + urlencode({"last": last.number})
    return to


@login_required
@require_POST
def scan(request: HttpRequest, pk: int) -> HttpResponse:
    take = _stocktake(request, pk)
    try:
        line = st.scan(take, request.POST.get("number", ""), actor=Actor.of(request.user))  # type: ignore[arg-type]
    except ParcelError as exc:
        return _panel(request, take, exc.message)
    return _panel(request, take, last=line)


@login_required
@require_POST
def resolve(request: HttpRequest, pk: int) -> HttpResponse:
    take = _stocktake(request, pk)
    post = request.POST
    try:
        st.resolve(
            take,
            post.get("number", ""),
            post.get("action", ""),
            actor=Actor.of(request.user),  # type: ignore[arg-type]
            note=post.get("note", ""),
            phone=post.get("phone", ""),
            phone_last4=post.get("phone_last4", ""),
            flat=post.get("flat", ""),
            carrier=post.get("carrier", "")[:20],
        )
    except ParcelError as exc:
        return _panel(request, take, exc.message)
    return _panel(request, take)


@login_required
@require_POST
def change_status(request: HttpRequest, pk: int, verb: str) -> HttpResponse:
    take = _stocktake(request, pk)
    actor = Actor.of(request.user)  # type: ignore[arg-type]
    actions = {"pause": st.pause, "resume": st.resume, "finish": st.finish}
    if verb not in actions:
        raise Http404
    try:
        take = actions[verb](take, actor=actor)
    except ParcelError as exc:
        messages.error(request, exc.message)
    if verb == "finish":
        return redirect("stocktake:report", pk=take.pk)
    if verb == "pause":
        return redirect("stocktake:point", point_id=take.point_id)
    return redirect("stocktake:session", pk=take.pk)


@login_required
def report(request: HttpRequest, pk: int) -> HttpResponse:
    take = _stocktake(request, pk)
    return render(request, "stocktake/report.html", {"take": take, "report": take.report})


# --- missing-parcel cases --------------------------------------------------------------------


@login_required
def cases(request: HttpRequest) -> HttpResponse:
    qs: QuerySet[MissingCase] = access.missing_cases(request.user).select_related(
        "parcel", "point", "found_at_point"
    )
    show_closed = request.GET.get("closed") == "1"
    if not show_closed:
        qs = qs.filter(closed_at__isnull=True)
    return render(request, "stocktake/cases.html", {"cases": qs[:200], "show_closed": show_closed})


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(
        access.missing_cases(request.user).select_related("parcel", "point", "found_at_point"),
        pk=pk,
    )
    trail = case.parcel.events.select_related("point", "slot", "courier").order_by("seq")
    sees_code = access.Principal.of_user(request.user).sees_code(case.parcel)
    return render(
        request, "stocktake/case.html", {"case": case, "trail": trail, "sees_code": sees_code}
    )


# --- disinfection ----------------------------------------------------------------------------


class LogForm(forms.Form):
    agent = forms.CharField(label=gettext_lazy("agent"), max_length=100, required=False)
    photo = forms.ImageField(label=gettext_lazy("photo (optional)"), required=False)


@login_required
def point_disinfection(request: HttpRequest, point_id: int) -> HttpResponse:
    point = access.point_for(request.user, point_id)
    now = clock.now()
    today = now.astimezone(ZoneInfo(point.community.time_zone)).date()
    return render(
        request,
        "stocktake/disinfection.html",
        {
            "point": point,
            "statuses": disinfection.point_status(point, now),
            "recent": point.disinfection_logs.select_related("task")[:10],
            "year": today.year,
            "month": today.month,
        },
    )


@login_required
@require_POST
def log_done(request: HttpRequest, task_id: int) -> HttpResponse:
    task = get_object_or_404(
        DisinfectionTask.objects.select_related("point"),
        pk=task_id,
        active=True,
        point__in=access.clerk_points(request.user),
    )
    form = LogForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(e) for e in errors))
        return redirect("stocktake:disinfection", point_id=task.point_id)
    disinfection.log_done(
        task,
        user=request.user,  # type: ignore[arg-type]
        agent=form.cleaned_data["agent"],
        photo=form.cleaned_data["photo"],
    )
    messages.success(request, _("Logged: %(task)s.") % {"task": task.name})
    return redirect("stocktake:disinfection", point_id=task.point_id)


@login_required
def monthly_log(request: HttpRequest, point_id: int, year: int, month: int) -> HttpResponse:
    """The printable log of one point and month."""
    point = access.point_for(request.user, point_id)
    try:
        first = dt.date(year, month, 1)
    except ValueError:
        raise Http404 from None
    after = (first + dt.timedelta(days=32)).replace(day=1)
    tz = ZoneInfo(point.community.time_zone)
    logs = (
        DisinfectionLog.objects.filter(
            point=point,
            done_at__gte=dt.datetime.combine(first, dt.time(), tzinfo=tz),
            done_at__lt=dt.datetime.combine(after, dt.time(), tzinfo=tz),
        )
        .select_related("task")
        .order_by("done_at")
    )
    return render(
        request,
        "stocktake/disinfection_month.html",
        {"point": point, "first": first, "logs": logs, "tz": point.community.time_zone},
    )


@login_required
def photo(request: HttpRequest, log_id: int) -> FileResponse:
    """A log's photo, to those who may see the point (never a public media URL)."""
    log = get_object_or_404(DisinfectionLog, pk=log_id, point__in=access.clerk_points(request.user))
    if not log.photo:
        raise Http404
    return FileResponse(log.photo.open("rb"))
