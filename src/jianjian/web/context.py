"""The menu of every page: what the signed-in person may use, from :func:`access.nav_for`."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from jianjian import access


def site_nav(request: HttpRequest) -> dict[str, Any]:
    # Lazy: a page that never shows the menu (an htmx fragment) never pays its queries.
    user = getattr(request, "user", None)
    return {"site_nav": SimpleLazyObject(lambda: access.nav_for(user))}
