"""Console pages of a community's group robots (WeCom, DingTalk, Feishu), with a test message.

The test message goes the way every robot message goes: one outbox row, delivered by the
worker through the robot's channel. The page then shows that row's status until it is sent or
has failed, with the vendor's answer.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jianjian import access, clock
from jianjian.console import audit
from jianjian.console.operations.forms import RobotForm, masked
from jianjian.notify import outbox
from jianjian.notify.models import Notification, Status

# Fields whose values may go into the audit log as they are (never the secret).
AUDITED = ["name", "kind", "purpose", "webhook_url", "active"]


def _safe_url(url: str) -> str:
    """The webhook without its key (WeCom's and DingTalk's keys sit in the query string)."""
    return url.split("?", 1)[0] + ("?…" if "?" in url else "")


@login_required
def robot_list(request: HttpRequest, slug: str) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    robots = access.console_robots(request.user, community).order_by("-active", "name")
    rows = [(r, _safe_url(r.webhook_url), masked(r.secret)) for r in robots]
    return render(request, "console/operations/robots.html", {"community": community, "rows": rows})


@login_required
def robot_edit(request: HttpRequest, slug: str, pk: int | None = None) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    robot = access.console_robot_for(request.user, community, pk) if pk is not None else None
    form = RobotForm(request.POST or None, instance=robot)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save(commit=False)
            saved.community = community
            saved.save()
            changes = audit.changes_of(form, AUDITED)
            if "webhook_url" in changes:
                changes["webhook_url"] = [_safe_url(str(v or "")) for v in changes["webhook_url"]]
            if form.cleaned_data["secret"] != form.old_secret:
                changes["secret"] = ["…", _("(replaced)")]
            audit.record(
                request.user,
                community,
                "update" if robot else "create",
                (_("Robot %(robot)s changed") if robot else _("Robot %(robot)s added"))
                % {"robot": saved},
                saved,
                changes,
            )
        messages.success(request, _("Saved."))
        return redirect("console:ops-robots", slug=community.slug)
    return render(
        request,
        "console/operations/robot_form.html",
        {"community": community, "robot": robot, "form": form},
    )


@login_required
@require_POST
def robot_deactivate(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    robot = access.console_robot_for(request.user, community, pk)
    if robot.active:
        audit.deactivate(
            request.user,
            community,
            robot,
            "deactivate",
            _("Robot %(robot)s deactivated") % {"robot": robot},
        )
        messages.success(request, _("Deactivated."))
    return redirect("console:ops-robots", slug=community.slug)


@login_required
@require_POST
def robot_test(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    robot = access.console_robot_for(request.user, community, pk)
    if not robot.active:
        messages.error(request, _("This robot is switched off; switch it on to test it."))
        return redirect("console:ops-robots", slug=community.slug)
    now = clock.now()
    # The group hears the community's language, as with every robot message.
    with translation.override(settings.LANGUAGE_CODE):
        text = _("[%(community)s] Test message from jianjian, sent by %(user)s at %(time)s.") % {
            "community": community.name,
            "user": request.user.get_username(),
            "time": now.astimezone(ZoneInfo(community.time_zone)).strftime("%H:%M"),
        }
    with transaction.atomic():
        row = outbox.enqueue(
            parcel=None,
            community_id=community.pk,
            cause="robot_test",
            dedup_key=f"robot_test:{robot.pk}:{now.timestamp():.6f}",
            address=robot.name,
            body=text,
            channel=robot.kind,
            robot=robot,
            time_zone=community.time_zone,
        )
        audit.record(
            request.user,
            community,
            "test",
            _("Test message queued for robot %(robot)s") % {"robot": robot},
            robot,
        )
    assert row is not None  # a fresh key: never a duplicate
    return redirect(
        "console:ops-robot-message", slug=community.slug, pk=robot.pk, message_id=row.pk
    )


@login_required
def robot_message(request: HttpRequest, slug: str, pk: int, message_id: int) -> HttpResponse:
    """The test message's status; htmx asks again every few seconds until it is final."""
    community = access.console_community_for(request.user, slug)
    robot = access.console_robot_for(request.user, community, pk)
    row: Notification = access.console_robot_message_for(request.user, community, message_id)
    if row.robot_id != robot.pk:
        raise Http404
    final = row.status in (Status.SENT, Status.FAILED)
    context = {"community": community, "robot": robot, "row": row, "final": final}
    if request.headers.get("HX-Request"):
        return render(request, "console/operations/_robot_message.html", context)
    return render(request, "console/operations/robot_message.html", context)
