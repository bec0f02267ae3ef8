"""Staff password sign-in throttling (django-axes), tolerant of calls that carry no request."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class StaffLoginThrottle(AxesStandaloneBackend):
    """Refuse a locked-out (user name, address) pair before any password is checked.

    django-axes raises when ``authenticate()`` is called without a request. Only HTTP sign-ins
    can be brute-forced from outside, and those always carry the request, so calls without one
    (the CLI, ``Client.login`` in tests) pass through to the next backend unthrottled.
    """

    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
