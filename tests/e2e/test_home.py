"""The front page and the admin sign-in in a real browser, in both languages."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests.e2e.conftest import PHONE, screenshot


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_admin_sign_in_works_in_the_browser(page_factory, language):
    get_user_model().objects.create_superuser("boss", password="a-long-password")
    page = page_factory(viewport=PHONE, language=language)
    page.goto("/")
    expected = "件件有着落" if language == "zh-hans" else "every parcel accounted for"
    assert expected in page.content()
    screenshot(page, f"home-{language}-phone")
    page.goto("/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "a-long-password")
    page.press("#id_password", "Enter")
    page.wait_for_url("**/admin/")
    assert page.locator("#user-tools").is_visible()
