"""Security headers, CSP, CSRF on forms, staff login throttling, masking."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from jianjian.communities.phones import mask_name, mask_phone
from tests.residents.conftest import arrive


def test_security_headers_and_csp_without_inline_script(db):
    response = Client().get("/me/signin/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "<script>" not in response.content.decode()


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/me/signin/", {"phone": "13812345678"}),
        ("/me/preferences/", {"locker_consent": "on"}),
        ("/me/proxies/", {"phone": "13700001234", "days": 2}),
    ],
)
def test_forms_refuse_a_post_without_csrf_token(world, url, data):
    client = Client(enforce_csrf_checks=True)
    client.force_login(get_user_model().objects.create_user("someone"))
    assert client.post(url, data).status_code == 403


def test_staff_login_locks_after_five_failures_for_that_name_and_address(db, settings):
    get_user_model().objects.create_user("clerk", password="right-password-1")
    client = Client()
    for _ in range(4):
        response = client.post("/login/", {"username": "clerk", "password": "wrong"})
        assert response.status_code == 200
    fifth = client.post("/login/", {"username": "clerk", "password": "wrong"})
    assert fifth.status_code == 429
    locked = client.post("/login/", {"username": "clerk", "password": "right-password-1"})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another address is not locked out: nobody can lock a clerk out from afar.
    other = Client(REMOTE_ADDR="10.1.1.1")
    ok = other.post("/login/", {"username": "clerk", "password": "right-password-1"})
    assert ok.status_code == 302


def test_masking_helpers():
    assert mask_phone("+8613812345678") == "138****5678"
    assert mask_name("张三") == "张*"


def test_resident_pages_show_phones_masked(world, resident_client):
    parcel = arrive(world)
    resident_client.post("/me/proxies/", {"phone": "13700001234", "parcel": parcel.pk})
    page = resident_client.get("/me/proxies/").content.decode()
    assert "137****1234" in page
    assert "13700001234" not in page


def test_session_cookie_is_http_only_and_secure_behind_https(settings):
    assert settings.SESSION_COOKIE_HTTPONLY is True
    # JIANJIAN_SECURE_COOKIES=true sets both, and HSTS with them (checked in settings.py).
    assert settings.CSRF_COOKIE_SECURE == settings.SESSION_COOKIE_SECURE
