"""Helpers shared by the counter's views: the point, htmx-aware rendering, the label queue."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.contrib.sessions.backends.base import SessionBase
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from jianjian import access
from jianjian.parcels import services
from jianjian.points.models import CollectionPoint
from jianjian.points.room import room_today


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def page(
    request: HttpRequest,
    point: CollectionPoint,
    screen: str,
    template: str,
    context: dict[str, Any],
    *,
    part: str | None = None,
    status: int = 200,
    remaining: int | None = None,
) -> HttpResponse:
    """Render the partial for an htmx request, else the whole screen around it.

    Every form also works without JavaScript: the same view answers a plain POST with the full
    page, so a counter with a broken browser can still work. ``remaining``: the point's room
    today when the caller knows it already (an intake's answer reports it), else it is read.
    """
    context = {
        "point": point,
        "screen": screen,
        "remaining": room_today(point) if remaining is None else remaining,
        "label_queue": len(label_queue(request.session, point)),
        **context,
    }
    if part and is_htmx(request):
        return render(request, part, context, status=status)
    return render(request, template, context, status=status)


def first_error(form: Form) -> str:
    for errors in form.errors.values():
        return str(errors[0])
    return _("Please check what you typed.")


def actor(request: HttpRequest) -> services.Actor:
    """The signed-in clerk as the services' actor (every counter view requires a sign-in)."""
    user = request.user
    assert isinstance(user, User), "counter views are login_required"
    return services.Actor.of(user)


def counter_point(request: HttpRequest, point_id: int) -> CollectionPoint:
    return access.point_for(request.user, point_id)


# --- the label print queue: parcels taken in whose labels are still to be printed -----------


def _queue_key(point: CollectionPoint) -> str:
    return f"jianjian.labels.{point.pk}"


def label_queue(session: SessionBase, point: CollectionPoint) -> list[int]:
    return list(session.get(_queue_key(point), []))


def queue_label(session: SessionBase, point: CollectionPoint, parcel_id: int) -> None:
    queue = label_queue(session, point)
    if parcel_id not in queue:
        queue.append(parcel_id)
    session[_queue_key(point)] = queue[-200:]


def clear_label_queue(session: SessionBase, point: CollectionPoint) -> None:
    session.pop(_queue_key(point), None)
