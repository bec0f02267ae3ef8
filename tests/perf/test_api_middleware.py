"""An API call judged by its bearer token skips the browser's middlewares (session, user,
messages, static files, page policy) and keeps everything else; a call with the pages' session,
and the API's docs, run the whole stack as before."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import tracking

pytestmark = pytest.mark.django_db


def _body(api) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return {"point_id": api.world.counter.pk, "tracking_number": tracking(), "phone": "13812345678"}


def test_a_token_call_keeps_the_headers_and_answers_as_before(api):
    response = api.clerk.post("/parcels/intake", _body(api), headers={"X-Request-ID": "scan-0001"})
    assert response.status_code == 200 and response.json()["created"]
    assert response["X-Request-ID"] == "scan-0001"  # the request id, log line and metrics
    assert response["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" not in response  # no page to govern
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_a_token_call_reads_no_session(api):
    api.clerk.post("/parcels/intake", _body(api))
    api.clerk.client.cookies[settings.SESSION_COOKIE_NAME] = "whatever"
    with CaptureQueriesContext(connection) as ctx:
        assert api.clerk.post("/parcels/intake", _body(api)).status_code == 200
    assert not [q for q in ctx.captured_queries if "django_session" in q["sql"]]


def test_a_wrong_token_is_still_refused_in_the_callers_language(api):
    client = Client(HTTP_AUTHORIZATION="Bearer jj_wrong", HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/api/v1/parcels/intake", _body(api), content_type="application/json")
    assert response.status_code == 401
    assert response["Content-Language"] == "en"  # LocaleMiddleware still runs


def test_the_pages_session_on_the_api_runs_the_whole_stack(api, world):
    user = get_user_model().objects.get(username="clerk-a")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    # Without the CSRF token the session's POST is refused, as before.
    refused = client.post("/api/v1/parcels/intake", _body(api), content_type="application/json")
    assert refused.status_code == 403
    assert "Content-Security-Policy" in refused
    answered = client.get("/api/v1/parcels")
    assert answered.status_code == 200 and "Content-Security-Policy" in answered


def test_the_docs_keep_their_policy_even_with_a_token(api):
    response = api.clerk.client.get("/api/v1/docs", HTTP_AUTHORIZATION=f"Bearer {api.clerk.token}")
    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]
