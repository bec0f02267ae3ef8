"""The worker's and the SMS channel's settings are read once, through conf.py, at start: a bad
value stops the process with a message naming the variable, instead of failing each message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from jianjian.conf import env_prefixed
from jianjian.notify import worker
from jianjian.notify.channels.sms import sms_config


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("JIANJIAN_SMS_PROVIDER", "aliyn", "JIANJIAN_SMS_PROVIDER='aliyn' must be one of"),
        ("JIANJIAN_NOTIFY_CLAIM_SECONDS", "2min", "is not a whole number"),
        ("JIANJIAN_NOTIFY_CLAIM_SECONDS", "0", "must be at least 1"),
    ],
)
def test_a_bad_value_stops_the_worker_with_a_message(tmp_path: Path, name, value, message):
    env = dict(os.environ, JIANJIAN_DATA_DIR=str(tmp_path), **{name: value})
    result = subprocess.run(
        [sys.executable, "-m", "jianjian.cli", "worker"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode != 0
    assert message in result.stderr


def test_the_sms_channel_reads_its_provider_keys_and_templates_from_the_settings():
    keys = {"key_id": "id", "secret": "s", "sign_name": "件件", "endpoint": "https://x/"}
    with override_settings(
        NOTIFY_SMS=None, SMS_PROVIDER="aliyun", SMS_ALIYUN=keys, SMS_TEMPLATES={"intake": "SMS_1"}
    ):
        config = sms_config()
    assert (config.provider, config.key_id, config.sign_name) == ("aliyun", "id", "件件")
    assert config.template("intake") == "SMS_1"


def test_template_ids_are_read_by_their_cause(monkeypatch):
    monkeypatch.setenv("JIANJIAN_SMS_TEMPLATE_INTAKE", " SMS_123 ")
    monkeypatch.setenv("JIANJIAN_SMS_TEMPLATE_DEAD", "SMS_9")
    assert {"intake": "SMS_123", "dead": "SMS_9"}.items() <= env_prefixed(
        "JIANJIAN_SMS_TEMPLATE_"
    ).items()


def test_the_claim_lease_comes_from_the_settings():
    with override_settings(NOTIFY_CLAIM_SECONDS=7):
        assert worker.claim_seconds() == 7
