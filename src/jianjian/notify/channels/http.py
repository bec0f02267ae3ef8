"""One JSON-over-HTTP call for the robot and SMS adapters (standard library, short timeout)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from jianjian.notify.channels import PermanentFailure, TemporaryFailure

TIMEOUT_SECONDS = 10


def call(
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    method: str = "POST",
) -> tuple[int, dict[str, Any]]:
    """Send the request; return (HTTP status, decoded JSON answer).

    Network trouble and 5xx answers are temporary; a 4xx with no JSON answer is permanent.
    A 4xx *with* a JSON answer is returned, so the adapter can read the provider's error code.
    """
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
        if status >= 500 or status == 429:
            raise TemporaryFailure(f"HTTP {status}: {raw[:300]!r}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from exc
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        raise (TemporaryFailure if status < 400 else PermanentFailure)(
            f"HTTP {status}, not JSON: {raw[:300]!r}"
        ) from None
    if not isinstance(answer, dict):
        raise TemporaryFailure(f"HTTP {status}, unexpected answer: {raw[:300]!r}")
    return status, answer


def post_json(
    url: str, payload: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    body = json.dumps(payload, ensure_ascii=False).encode()
    return call(
        url,
        body=body,
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
    )
