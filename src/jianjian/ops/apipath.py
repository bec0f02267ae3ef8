"""The browser-only middlewares, skipped for API requests judged by a bearer token.

A request to ``/api/`` that carries an ``Authorization`` header is judged by its token alone
(:mod:`jianjian.api.auth`): it never reads the session, the signed-in user, flash messages or
static files, and it answers JSON, where a Content-Security-Policy has nothing to govern. Running
those middlewares for it cost about a tenth of a scan's server time (docs/benchmarks.md), so the
classes below — used in ``settings.MIDDLEWARE`` in place of their parents — pass such a request
straight on. Every other request (pages, the API with the pages' session, the API's docs) runs
them exactly as their parents do.

What stays on for every request: the forwarded address, the request id, log line and metrics,
SecurityMiddleware (nosniff, referrer policy, HSTS), the language, the NUL check, CommonMiddleware,
CSRF (the API's views are exempt; the session path is checked by django-ninja), the
X-Frame-Options header and django-axes (a lookup of one attribute; its system check wants its
own class by name).
"""

from __future__ import annotations

from typing import Any

from csp.middleware import CSPMiddleware as _CSP
from django.contrib.auth.middleware import AuthenticationMiddleware as _Authentication
from django.contrib.messages.middleware import MessageMiddleware as _Messages
from django.contrib.sessions.middleware import SessionMiddleware as _Session
from django.http import HttpRequest
from whitenoise.middleware import WhiteNoiseMiddleware as _WhiteNoise

API = "/api/"
# The API's HTML pages (Swagger UI and its schema) keep the browser's protections.
DOCS = ("/api/v1/docs", "/api/v1/openapi.json")


def token_api(request: HttpRequest) -> bool:
    """An API call judged by its bearer token alone (``Authorization`` present)."""
    path = request.path_info
    return (
        path.startswith(API) and "HTTP_AUTHORIZATION" in request.META and not path.startswith(DOCS)
    )


class _BrowserOnly:
    get_response: Any

    def __call__(self, request: HttpRequest) -> Any:
        if token_api(request):
            return self.get_response(request)
        return super().__call__(request)  # type: ignore[misc]


class WhiteNoiseMiddleware(_BrowserOnly, _WhiteNoise):
    pass


class SessionMiddleware(_BrowserOnly, _Session):
    pass


class AuthenticationMiddleware(_BrowserOnly, _Authentication):
    pass


class MessageMiddleware(_BrowserOnly, _Messages):
    pass


class CSPMiddleware(_BrowserOnly, _CSP):
    pass
