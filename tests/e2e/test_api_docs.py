"""/api/v1/docs renders Swagger UI in Chromium under the app's CSP, every asset from this server."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.e2e.conftest import screenshot
from tests.e2e.test_resident_csp import CspWatch

pytestmark = pytest.mark.django_db(transaction=True)


def test_swagger_ui_renders_under_the_csp_without_a_cdn(page_factory, live_server):
    page = page_factory()
    page.set_default_timeout(60_000)  # a 1.4 MB bundle from the test server on a busy machine
    watch = CspWatch(page)
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).netloc))
    watch.visit("/api/v1/docs", "#swagger-ui .info .title")
    page.wait_for_selector(".opblock-tag-section")  # the operations, read from openapi.json
    assert "jianjian" in page.inner_text("#swagger-ui .info .title")
    assert watch.problems == []
    assert hosts == {urlparse(live_server.url).netloc}
    screenshot(page, "api-docs")
