"""SMS through a provider adapter, configured from environment variables.

``JIANJIAN_SMS_PROVIDER`` picks the adapter:

- ``log`` (default): the message goes to the log file, like the ``log`` channel — the embedded
  default and development.
- ``aliyun``: Alibaba Cloud SMS ``SendSms`` (API version 2017-05-25, RPC style, signature
  version 1.0: HMAC-SHA1 over the sorted, percent-encoded query). Variables:
  ``JIANJIAN_ALIYUN_SMS_ACCESS_KEY_ID``, ``…_ACCESS_KEY_SECRET``, ``…_SIGN_NAME``,
  ``…_ENDPOINT`` (default ``https://dysmsapi.aliyuncs.com/``).
- ``tencent``: Tencent Cloud SMS ``SendSms`` (API 3.0, version 2021-01-11, signed with
  TC3-HMAC-SHA256). Variables: ``JIANJIAN_TENCENT_SMS_SECRET_ID``, ``…_SECRET_KEY``,
  ``…_SDK_APP_ID``, ``…_SIGN_NAME``, ``…_REGION`` (default ``ap-guangzhou``), ``…_ENDPOINT``
  (default ``https://sms.tencentcloudapi.com/``).

Providers send registered templates, not free text: ``JIANJIAN_SMS_TEMPLATE_<CAUSE>`` (e.g.
``JIANJIAN_SMS_TEMPLATE_INTAKE=SMS_123456789``) names the template for each cause, and the
template's variables are :data:`jianjian.notify.messages.SMS_PARAMS` (Alibaba Cloud gets them by
name, Tencent Cloud in that order); the README's "SMS templates to register" section has the
texts. A cause without a template fails permanently and visibly, rather than sending the wrong
text.

Neither provider offers an idempotency key for ``SendSms``; the notification's dedup key is sent
as ``OutId`` (Alibaba) / ``SessionContext`` (Tencent) so delivery receipts can be matched, and a
duplicate is possible only when a worker dies between the provider's answer and recording it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from jianjian.notify.channels import PermanentFailure, RateLimited, TemporaryFailure
from jianjian.notify.channels.http import call
from jianjian.notify.channels.log import LogChannel
from jianjian.notify.messages import SMS_PARAMS
from jianjian.notify.models import Notification

PROVIDERS = ("log", "aliyun", "tencent")


@dataclass(frozen=True)
class SmsConfig:
    provider: str
    key_id: str = ""
    secret: str = ""
    sign_name: str = ""
    app_id: str = ""
    region: str = ""
    endpoint: str = ""
    templates: tuple[tuple[str, str], ...] = ()

    def template(self, cause: str) -> str:
        code = dict(self.templates).get(cause, "")
        if not code:
            raise PermanentFailure(
                f"no SMS template for {cause!r}: set JIANJIAN_SMS_TEMPLATE_{cause.upper()}"
            )
        return code


def sms_config() -> SmsConfig:
    """The SMS settings: ``settings.NOTIFY_SMS`` (tests), else what the settings read from the
    environment at start (``SMS_PROVIDER``, ``SMS_TEMPLATES``, ``SMS_ALIYUN``/``SMS_TENCENT``),
    so a bad value stops the process at start instead of failing each message."""
    override = getattr(settings, "NOTIFY_SMS", None)
    if override is not None:
        return override  # type: ignore[no-any-return]
    provider = settings.SMS_PROVIDER
    configured = settings.SMS_TEMPLATES
    templates = tuple((cause, configured.get(cause, "")) for cause in SMS_PARAMS)
    if provider == "aliyun":
        return SmsConfig(provider, templates=templates, **settings.SMS_ALIYUN)
    if provider == "tencent":
        return SmsConfig(provider, templates=templates, **settings.SMS_TENCENT)
    return SmsConfig(provider)


class SmsChannel:
    def send(self, notification: Notification) -> str:
        config = sms_config()
        if config.provider == "aliyun":
            return aliyun_send(config, notification)
        if config.provider == "tencent":
            return tencent_send(config, notification)
        return LogChannel().send(notification)


# --- Alibaba Cloud ----------------------------------------------------------------------------


def _pct(value: str) -> str:
    # Alibaba's POP encoding: RFC 3986 (space as %20, * as %2A, ~ kept).
    return urllib.parse.quote(value, safe="~")


def aliyun_signature(secret: str, params: dict[str, str], method: str = "GET") -> str:
    canonical = "&".join(f"{_pct(k)}={_pct(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{_pct('/')}&{_pct(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def aliyun_phone(e164: str) -> str:
    # Mainland numbers without the country code; others as country code + number, no "+".
    digits = e164.lstrip("+")
    return digits[2:] if e164.startswith("+86") else digits


# Alibaba answers HTTP 200 with a Code; these mean "slow down", the isv.* others are permanent.
ALIYUN_RATE_CODES = {"isv.BUSINESS_LIMIT_CONTROL", "Throttling.User", "Throttling"}
ALIYUN_TEMPORARY_CODES = {"isv.SYSTEM_ERROR", "isp.SYSTEM_ERROR", "ServiceUnavailable"}


def aliyun_send(config: SmsConfig, notification: Notification) -> str:
    params = {
        "AccessKeyId": config.key_id,
        "Action": "SendSms",
        "Format": "JSON",
        "OutId": notification.dedup_key[:64],
        "PhoneNumbers": aliyun_phone(notification.address),
        "RegionId": "cn-hangzhou",
        "SignName": config.sign_name,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": uuid.uuid4().hex,
        "SignatureVersion": "1.0",
        "TemplateCode": config.template(notification.cause),
        "TemplateParam": json.dumps(notification.params, ensure_ascii=False),
        "Timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Version": "2017-05-25",
    }
    params["Signature"] = aliyun_signature(config.secret, params)
    url = f"{config.endpoint}?{urllib.parse.urlencode(params, quote_via=urllib.parse.quote)}"
    _status, answer = call(url, method="GET")
    text = json.dumps(answer, ensure_ascii=False)[:500]
    code = answer.get("Code")
    if code == "OK":
        return text
    if code in ALIYUN_RATE_CODES:
        raise RateLimited(text, retry_after=60)
    if code in ALIYUN_TEMPORARY_CODES:
        raise TemporaryFailure(text)
    raise PermanentFailure(text)


# --- Tencent Cloud ----------------------------------------------------------------------------

TENCENT_VERSION = "2021-01-11"


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def tencent_authorization(
    *, secret_id: str, secret_key: str, host: str, body: bytes, timestamp: int, service: str = "sms"
) -> str:
    """The TC3-HMAC-SHA256 ``Authorization`` header for a JSON POST to ``/``."""
    date = dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d")
    canonical_request = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:application/json; charset=utf-8\nhost:{host}\n",
            "content-type;host",
            _sha256_hex(body),
        ]
    )
    scope = f"{date}/{service}/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{_sha256_hex(canonical_request.encode())}"
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, "
        f"SignedHeaders=content-type;host, Signature={signature}"
    )


TENCENT_RATE_PREFIXES = ("RequestLimitExceeded", "LimitExceeded.PhoneNumberThirtySecondLimit")
TENCENT_TEMPORARY_PREFIXES = ("InternalError", "FailedOperation.ServiceUnavailable")


def _tencent_fail(code: str, text: str) -> Exception:
    if code.startswith(TENCENT_RATE_PREFIXES):
        return RateLimited(text, retry_after=60)
    if code.startswith(TENCENT_TEMPORARY_PREFIXES):
        return TemporaryFailure(text)
    return PermanentFailure(text)


def tencent_send(config: SmsConfig, notification: Notification) -> str:
    names = SMS_PARAMS.get(notification.cause, ())
    payload: dict[str, Any] = {
        "PhoneNumberSet": [notification.address],
        "SmsSdkAppId": config.app_id,
        "SignName": config.sign_name,
        "TemplateId": config.template(notification.cause),
        "TemplateParamSet": [str(notification.params.get(n, "")) for n in names],
        "SessionContext": notification.dedup_key[:512],
    }
    body = json.dumps(payload, ensure_ascii=False).encode()
    host = urllib.parse.urlsplit(config.endpoint).netloc
    timestamp = int(time.time())
    headers = {
        "Authorization": tencent_authorization(
            secret_id=config.key_id,
            secret_key=config.secret,
            host=host,
            body=body,
            timestamp=timestamp,
        ),
        "Content-Type": "application/json; charset=utf-8",
        "Host": host,
        "X-TC-Action": "SendSms",
        "X-TC-Timestamp": str(timestamp),
        "X-TC-Version": TENCENT_VERSION,
        "X-TC-Region": config.region,
    }
    _status, answer = call(config.endpoint, body=body, headers=headers)
    response = answer.get("Response", {})
    text = json.dumps(response, ensure_ascii=False)[:500]
    if "Error" in response:
        raise _tencent_fail(str(response["Error"].get("Code", "")), text)
    statuses = response.get("SendStatusSet") or [{}]
    code = str(statuses[0].get("Code", ""))
    if code == "Ok":
        return text
    raise _tencent_fail(code, text)
