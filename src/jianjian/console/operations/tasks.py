"""Console pages of the disinfection tasks of a community's points."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jianjian import access
from jianjian.console import audit
from jianjian.console.operations.forms import TaskForm
from jianjian.points.disinfection import next_due


@login_required
def task_list(request: HttpRequest, slug: str) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    tasks = (
        access.console_tasks(request.user, community)
        .select_related("point")
        .order_by("-active", "point__code", "name")
    )
    return render(
        request, "console/operations/tasks.html", {"community": community, "tasks": tasks}
    )


@login_required
def task_edit(request: HttpRequest, slug: str, pk: int | None = None) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    task = access.console_task_for(request.user, community, pk) if pk is not None else None
    form = TaskForm(request.POST or None, instance=task, community=community)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save(commit=False)
            saved.community = community
            if task is None or {"interval_hours", "starts_at", "ends_at", "active"} & set(
                form.changed_data
            ):
                # The schedule changed: the next due time follows the new one.
                last = saved.logs.order_by("-done_at").first() if saved.pk else None
                saved.next_due_at = next_due(saved, last.done_at if last else None)
            saved.save()
            audit.record(
                request.user,
                community,
                "update" if task else "create",
                (
                    _("Disinfection task %(task)s changed")
                    if task
                    else _("Disinfection task %(task)s added")
                )
                % {"task": saved},
                saved,
                audit.changes_of(form),
            )
        messages.success(request, _("Saved."))
        return redirect("console:ops-tasks", slug=community.slug)
    return render(
        request,
        "console/operations/task_form.html",
        {"community": community, "task": task, "form": form},
    )


@login_required
@require_POST
def task_deactivate(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    community = access.console_community_for(request.user, slug)
    task = access.console_task_for(request.user, community, pk)
    if task.active:
        audit.deactivate(
            request.user,
            community,
            task,
            "deactivate",
            _("Disinfection task %(task)s deactivated") % {"task": task},
        )
        messages.success(request, _("Deactivated."))
    return redirect("console:ops-tasks", slug=community.slug)
