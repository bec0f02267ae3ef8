"""Behind a real TLS-terminating nginx (Debian's), `jianjian serve` knows the visit is HTTPS:
it sends HSTS, marks its cookies Secure, and its CSRF check accepts the https origin.

The nginx is started by the test with a self-signed certificate made here, on free ports of
127.0.0.1. Skipped outside CI only when nginx is not installed; never skipped under CI=true.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import ssl
import subprocess
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ops.helpers import Server, env_for, free_port, jianjian

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
pytestmark = pytest.mark.skipif(
    NGINX is None and os.environ.get("CI") != "true",
    reason="nginx is not installed (apt-get install nginx); CI always runs this test",
)

CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  server {{
    listen 127.0.0.1:{tls_port} ssl;
    ssl_certificate {dir}/cert.pem;
    ssl_certificate_key {dir}/key.pem;
    location / {{
      proxy_pass http://127.0.0.1:{app_port};
      proxy_set_header Host $host:$server_port;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }}
  }}
}}
"""


def _certificate(directory: Path) -> None:
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(directory / "key.pem"),
         "-out", str(directory / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip


def _wait_for_tls(port: int, proc: subprocess.Popen[bytes]) -> None:
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"nginx exited with {proc.returncode}")
        try:
            _request(port, "GET", "/healthz")
            return
        except OSError:
            time.sleep(0.1)  # nginx is not listening yet; bounded by the deadline
    raise AssertionError("nginx did not answer")


def _request(
    port: int, method: str, path: str, body: str = "", headers: dict[str, str] | None = None
) -> http.client.HTTPResponse:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30)
    connection.request(method, path, body=body or None, headers=headers or {})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Server]]:
    tmp_path = tmp_path_factory.mktemp("proxy")
    assert NGINX is not None, "CI must have nginx (.ci/run installs it)"
    tls_port = free_port()
    env = env_for(
        tmp_path / "data",
        JIANJIAN_PROXY_COUNT="1",
        JIANJIAN_CSRF_TRUSTED_ORIGINS=f"https://127.0.0.1:{tls_port}",
    )
    assert jianjian("migrate", env=env).returncode == 0
    made = jianjian("createadmin", "boss", "--password", "proxy-pass-123", env=env)
    assert made.returncode == 0, made.stderr
    server = Server(env).start()
    nginx_dir = tmp_path / "nginx"
    nginx_dir.mkdir()
    _certificate(nginx_dir)
    conf = nginx_dir / "nginx.conf"
    conf.write_text(CONF.format(dir=nginx_dir, tls_port=tls_port, app_port=server.port))
    nginx = subprocess.Popen(
        [NGINX, "-p", str(nginx_dir), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_tls(tls_port, nginx)
        yield tls_port, server
    finally:
        nginx.terminate()
        nginx.wait(timeout=20)
        server.stop()


def _cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    """Each Set-Cookie of the response: name → the whole header."""
    return {h.split("=", 1)[0]: h for h in response.headers.get_all("Set-Cookie") or []}


def test_through_the_tls_proxy_hsts_secure_cookies_and_https_scheme(proxied):
    port, _server = proxied
    page = _request(port, "GET", "/login/")
    assert page.status == 200
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    csrf_header = _cookies(page)["csrftoken"]
    assert "; Secure" in csrf_header
    token = csrf_header.split("=", 1)[1].split(";", 1)[0]

    # Django checks a secure request's Origin against https://<host>: the sign-in passes only if
    # the forwarded scheme was trusted as https.
    form = urllib.parse.urlencode(
        {"username": "boss", "password": "proxy-pass-123", "csrfmiddlewaretoken": token}
    )
    signed_in = _request(
        port,
        "POST",
        "/login/",
        form,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={token}",
            "Origin": f"https://127.0.0.1:{port}",
            "Referer": f"https://127.0.0.1:{port}/login/",
        },
    )
    assert signed_in.status == 302, signed_in.status
    session = _cookies(signed_in)["sessionid"]
    assert "; Secure" in session and re.search(r"(?i); HttpOnly", session)


def test_a_plain_http_request_to_the_app_gets_no_hsts(proxied):
    """Only what the proxy says is HTTPS is treated as HTTPS (nginx sets the header itself)."""
    _port, server = proxied
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("GET", "/login/")
    response = conn.getresponse()
    response.read()
    conn.close()
    assert response.status == 200
    assert response.getheader("Strict-Transport-Security") is None
