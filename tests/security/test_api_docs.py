"""/api/v1/docs is Swagger UI from the app's own static files, with no inline script: the CSP
(script-src 'self') lets it run, and it works offline. The browser test is in tests/e2e."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def test_the_docs_page_loads_its_assets_from_this_server(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "https://" not in html and "http://" not in html  # no CDN
    sources = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', html)
    assert any(s.endswith("swagger-ui-bundle.js") for s in sources)
    for source in sources:
        assert source.startswith("/static/"), source
        asset = client.get(source)
        assert asset.status_code == 200, source
        body = b"".join(asset.streaming_content) if asset.streaming else asset.content
        assert body
    # Every script is a file of ours, or data the page's script reads: none runs inline.
    for attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S):
        assert "src=" in attributes or 'type="application/json"' in attributes, attributes
        if "src=" in attributes:
            assert not body.strip()


def test_the_docs_page_is_served_under_the_csp(client):
    policy = client.get("/api/v1/docs")["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style-src")[0]
