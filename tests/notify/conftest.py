from __future__ import annotations

from collections.abc import Iterator

import pytest

from jianjian.notify.channels.sms import SmsConfig
from jianjian.notify.messages import SMS_PARAMS
from jianjian.notify.models import GroupRobot, ResidentPreference
from tests.notify import peers


@pytest.fixture
def peer() -> Iterator[peers.ProviderPeer]:
    with peers.PeerServer(peers.ProviderPeer()) as p:
        yield p


@pytest.fixture
def smtp(settings) -> Iterator[peers.MailSink]:
    controller, sink = peers.smtp_server()
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = controller.port
        settings.DEFAULT_FROM_EMAIL = "jianjian@example.org"
        yield sink
    finally:
        controller.stop()


TEMPLATES = tuple((cause, f"SMS_{i:06d}") for i, cause in enumerate(SMS_PARAMS, start=1))


def aliyun_config(peer: peers.ProviderPeer) -> SmsConfig:
    return SmsConfig(
        "aliyun",
        key_id=peers.ALIYUN_KEY_ID,
        secret=peers.ALIYUN_SECRET,
        sign_name="件件有着落",
        endpoint=f"{peer.url}/aliyun/",
        templates=TEMPLATES,
    )


def tencent_config(peer: peers.ProviderPeer) -> SmsConfig:
    return SmsConfig(
        "tencent",
        key_id=peers.TENCENT_ID,
        secret=peers.TENCENT_KEY,
        sign_name="件件有着落",
        app_id="1400000001",
        region="ap-guangzhou",
        endpoint=f"{peer.url}/tencent/",
        templates=TEMPLATES,
    )


def robot(
    world, peer, kind: str, purpose: str = "committee", secret: str | None = None
) -> GroupRobot:
    secrets = {"wecom": "", "dingtalk": peers.DINGTALK_SECRET, "feishu": peers.FEISHU_SECRET}
    paths = {
        "wecom": "/wecom/cgi-bin/webhook/send?key=test-key",
        "dingtalk": "/dingtalk/robot/send?access_token=test-token",
        "feishu": "/feishu/open-apis/bot/v2/hook/test-hook",
    }
    return GroupRobot.objects.create(
        community=world.community,
        name=f"{kind} group",
        kind=kind,
        webhook_url=peer.url + paths[kind],
        secret=secrets[kind] if secret is None else secret,
        purpose=purpose,
    )


def prefer(resident, *channels: str, email: str = "", language: str = "zh-hans") -> None:
    pref = ResidentPreference(
        resident=resident, channels=list(channels), email=email, language=language
    )
    pref.full_clean()
    pref.save()
