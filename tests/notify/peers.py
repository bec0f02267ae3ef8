"""Real local peers for the channels: an HTTP server on 127.0.0.1 that stands in for the WeCom,
DingTalk and Feishu robot webhooks and the Alibaba Cloud and Tencent Cloud SMS APIs, checking
each request's shape and signature as the provider documents it (implemented here on its own,
not by importing the code under test), and an SMTP server (aiosmtpd).

The HTTP peer answers like the provider: success, its error codes for a bad signature or
payload, and its rate-limit codes (scripted with ``peer.script(path_prefix, answers)`` or by
the peer's own count of a robot's messages per minute).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

DINGTALK_SECRET = "SECtest-dingtalk-secret"
FEISHU_SECRET = "feishu-test-secret"
ALIYUN_KEY_ID, ALIYUN_SECRET = "LTAItestkeyid", "aliyun-test-secret"
TENCENT_ID, TENCENT_KEY = "AKIDtestsecretid", "tencent-test-secret-key"


@dataclass
class Received:
    provider: str
    text: str  # the message text, or the SMS template parameters as JSON
    to: str = ""
    key: str = ""  # OutId / SessionContext: the notification's dedup key, for SMS


@dataclass
class ProviderPeer:
    delay: float = 0.0  # seconds before answering (to kill a worker mid-batch)
    received: list[Received] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    robot_sends: dict[str, list[float]] = field(default_factory=dict)
    scripted: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def script(self, prefix: str, answers: list[tuple[int, dict[str, Any]]]) -> None:
        with self.lock:
            self.scripted.setdefault(prefix, []).extend(answers)

    def texts(self, provider: str) -> list[str]:
        with self.lock:
            return [r.text for r in self.received if r.provider == provider]

    def _scripted(self, path: str) -> tuple[int, dict[str, Any]] | None:
        with self.lock:
            for prefix, answers in self.scripted.items():
                if path.startswith(prefix) and answers:
                    return answers.pop(0)
        return None

    def _over_limit(self, robot: str, per_minute: int) -> bool:
        now = time.time()
        with self.lock:
            sends = [t for t in self.robot_sends.get(robot, []) if t > now - 60]
            if len(sends) >= per_minute:
                return True
            self.robot_sends[robot] = [*sends, now]
        return False

    def _accept(self, item: Received) -> None:
        with self.lock:
            self.received.append(item)

    def _reject(self, why: str) -> None:
        with self.lock:
            self.rejected.append(why)

    # --- the providers, as documented -------------------------------------------------------

    def wecom(self, path: str, query: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        payload = json.loads(body)
        content = payload.get("text", {}).get("content")
        if not query.get("key") or payload.get("msgtype") != "text" or not isinstance(content, str):
            self._reject("wecom: bad payload")
            return 200, {"errcode": 40008, "errmsg": "invalid message type"}
        if len(content.encode()) > 2048:
            self._reject("wecom: content over 2048 bytes")
            return 200, {"errcode": 40058, "errmsg": "content exceed max length"}
        if self._over_limit("wecom:" + query["key"], 20):
            self._reject("wecom: over 20 a minute")
            return 200, {"errcode": 45009, "errmsg": "api freq out of limit"}
        self._accept(Received("wecom", content))
        return 200, {"errcode": 0, "errmsg": "ok"}

    def dingtalk(self, path: str, query: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        ts, sign = query.get("timestamp", ""), query.get("sign", "")
        expected = base64.b64encode(
            hmac.new(
                DINGTALK_SECRET.encode("utf-8"),
                f"{ts}\n{DINGTALK_SECRET}".encode(),
                digestmod=hashlib.sha256,
            ).digest()
        ).decode()
        if not ts.isdigit() or abs(int(ts) - time.time() * 1000) > 3600 * 1000 or sign != expected:
            self._reject("dingtalk: sign")
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
        payload = json.loads(body)
        content = payload.get("text", {}).get("content")
        if payload.get("msgtype") != "text" or not isinstance(content, str):
            self._reject("dingtalk: bad payload")
            return 200, {"errcode": 40035, "errmsg": "缺少参数 json"}
        if self._over_limit("dingtalk:" + query.get("access_token", ""), 20):
            self._reject("dingtalk: over 20 a minute")
            return 200, {"errcode": 130101, "errmsg": "send too fast"}
        self._accept(Received("dingtalk", content))
        return 200, {"errcode": 0, "errmsg": "ok"}

    def feishu(self, path: str, query: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        if len(body) > 20 * 1024:
            self._reject("feishu: body over 20 KB")
            return 200, {"code": 9499, "msg": "request body too large"}
        payload = json.loads(body)
        ts = payload.get("timestamp", "")
        string_to_sign = f"{ts}\n{FEISHU_SECRET}"
        expected = base64.b64encode(
            hmac.new(string_to_sign.encode("utf-8"), digestmod=hashlib.sha256).digest()
        ).decode()
        if not isinstance(ts, str) or payload.get("sign") != expected:
            self._reject("feishu: sign")
            return 200, {
                "code": 19021,
                "msg": "sign match fail or timestamp is not within one hour from current time",
            }
        text = payload.get("content", {}).get("text")
        if payload.get("msg_type") != "text" or not isinstance(text, str):
            self._reject("feishu: bad payload")
            return 200, {"code": 9499, "msg": "Bad Request"}
        self._accept(Received("feishu", text))
        return 200, {"code": 0, "msg": "success", "data": {}}

    def aliyun(self, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        def enc(v: str) -> str:
            return urllib.parse.quote(v, safe="-_.~")

        params = {k: v for k, v in query.items() if k != "Signature"}
        canonical = "&".join(f"{enc(k)}={enc(params[k])}" for k in sorted(params))
        to_sign = "GET&%2F&" + enc(canonical)
        expected = base64.b64encode(
            hmac.new((ALIYUN_SECRET + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
        ).decode()
        required = {
            "Action": "SendSms",
            "Version": "2017-05-25",
            "Format": "JSON",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "AccessKeyId": ALIYUN_KEY_ID,
        }
        if (
            any(params.get(k) != v for k, v in required.items())
            or query.get("Signature") != expected
        ):
            self._reject("aliyun: signature")
            return 400, {
                "Code": "SignatureDoesNotMatch",
                "Message": "Specified signature is not matched",
            }
        try:
            template_param = json.loads(params["TemplateParam"])
            time.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ")
            assert (
                isinstance(template_param, dict) and params["SignName"] and params["TemplateCode"]
            )
            assert params["PhoneNumbers"].isdigit() and params["SignatureNonce"]
        except (KeyError, ValueError, AssertionError):
            self._reject("aliyun: parameters")
            return 200, {"Code": "isv.INVALID_PARAMETERS", "Message": "参数异常"}
        self._accept(
            Received(
                "aliyun", params["TemplateParam"], params["PhoneNumbers"], params.get("OutId", "")
            )
        )
        return 200, {
            "Code": "OK",
            "Message": "OK",
            "BizId": "9006197469364984400",
            "RequestId": "F655A8D5",
        }

    def tencent(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        def sha(data: bytes) -> str:
            return hashlib.sha256(data).hexdigest()

        def sign(key: bytes, msg: str) -> bytes:
            return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()

        ts = headers.get("x-tc-timestamp", "0")
        date = time.strftime("%Y-%m-%d", time.gmtime(int(ts)))
        canonical = (
            f"POST\n/\n\ncontent-type:{headers.get('content-type', '')}\nhost:{headers.get('host', '')}\n"
            f"\ncontent-type;host\n{sha(body)}"
        )
        scope = f"{date}/sms/tc3_request"
        to_sign = f"TC3-HMAC-SHA256\n{ts}\n{scope}\n{sha(canonical.encode())}"
        secret = sign(sign(sign(("TC3" + TENCENT_KEY).encode(), date), "sms"), "tc3_request")
        signature = hmac.new(secret, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
        expected = (
            f"TC3-HMAC-SHA256 Credential={TENCENT_ID}/{scope}, "
            f"SignedHeaders=content-type;host, Signature={signature}"
        )
        ok_headers = (
            headers.get("x-tc-action") == "SendSms" and headers.get("x-tc-version") == "2021-01-11"
        )
        if not ok_headers or headers.get("authorization") != expected:
            self._reject("tencent: signature")
            return 200, {
                "Response": {
                    "Error": {"Code": "AuthFailure.SignatureFailure", "Message": "签名错误"},
                    "RequestId": "r",
                }
            }
        payload = json.loads(body)
        params = payload.get("TemplateParamSet")
        phones = payload.get("PhoneNumberSet")
        if not (
            isinstance(params, list)
            and all(isinstance(p, str) for p in params)
            and phones
            and payload.get("SmsSdkAppId")
            and payload.get("TemplateId")
            and payload.get("SignName")
        ):
            self._reject("tencent: parameters")
            return 200, {
                "Response": {
                    "Error": {"Code": "InvalidParameter", "Message": "bad"},
                    "RequestId": "r",
                }
            }
        self._accept(
            Received(
                "tencent",
                json.dumps(params, ensure_ascii=False),
                phones[0],
                payload.get("SessionContext", ""),
            )
        )
        status = {
            "SerialNo": "5000:1045710669157053657849499619",
            "PhoneNumber": phones[0],
            "Fee": 1,
            "SessionContext": payload.get("SessionContext", ""),
            "Code": "Ok",
            "Message": "send success",
            "IsoCode": "CN",
        }
        return 200, {"Response": {"SendStatusSet": [status], "RequestId": "a0aabda6"}}


def _handler(peer: ProviderPeer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _answer(self, status: int, answer: dict[str, Any]) -> None:
            data = json.dumps(answer, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _route(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if peer.delay:
                time.sleep(peer.delay)  # the peer is slow on purpose; tests wait on conditions
            scripted = peer._scripted(url.path)
            if scripted is not None:
                self._answer(*scripted)
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            if url.path.startswith("/wecom"):
                self._answer(*peer.wecom(url.path, query, body))
            elif url.path.startswith("/dingtalk"):
                self._answer(*peer.dingtalk(url.path, query, body))
            elif url.path.startswith("/feishu"):
                self._answer(*peer.feishu(url.path, query, body))
            elif url.path.startswith("/aliyun"):
                self._answer(*peer.aliyun(query))
            elif url.path.startswith("/tencent"):
                self._answer(*peer.tencent(headers, body))
            else:
                self._answer(404, {"error": "no such endpoint"})

        do_GET = do_POST = _route

    return Handler


class PeerServer:
    def __init__(self, peer: ProviderPeer) -> None:
        self.peer = peer
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(peer))
        self.server.daemon_threads = True
        peer.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ProviderPeer:
        self.thread.start()
        return self.peer

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Mail:
    to: list[str]
    subject: str
    body: str


class MailSink:
    def __init__(self) -> None:
        self.mails: list[Mail] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.content)
        payload = msg.get_payload(decode=True)
        body = (
            payload.decode(msg.get_content_charset() or "utf-8")
            if isinstance(payload, bytes)
            else ""
        )
        subject = str(make_header(decode_header(msg["Subject"] or "")))
        self.mails.append(Mail(list(envelope.rcpt_tos), subject, body))
        return "250 Message accepted for delivery"


def smtp_server() -> tuple[Controller, MailSink]:
    import socket

    with socket.socket() as s:  # a free port: the controller checks it can connect on start
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sink = MailSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    return controller, sink
