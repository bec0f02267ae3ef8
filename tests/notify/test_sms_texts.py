"""Resident SMS texts carry what phones' SMS apps read: 取件码 + code, 已到 + point, 运单尾号 +
the tracking number's last four digits, and the deadline as M月D日HH:MM; each piece is its own
template variable for Alibaba Cloud and Tencent Cloud."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import time_machine

from jianjian.notify import outbox
from jianjian.notify.messages import SMS_PARAM_MAX, SMS_PARAMS, deadline_text
from jianjian.notify.models import Notification
from jianjian.notify.outbox import ENDED_CAUSES
from jianjian.notify.worker import drain
from jianjian.parcels import services
from tests.factories import tracking
from tests.notify.conftest import aliyun_config, prefer, tencent_config

# 10:17 in Shanghai, outside quiet hours.
INTAKE = dt.datetime(2026, 12, 2, 2, 17, tzinfo=dt.UTC)
ZH_DEADLINE = re.compile(r"请(\d{1,2}月\d{1,2}日\d{2}:\d{2})前")
EN_DEADLINE = re.compile(r"by (\d{2}:\d{2} on \d{1,2} [A-Z][a-z]{2})\b")
CODED = ("intake", "moved", "reminder", "dead")


def _all_texts(world, language: str) -> tuple[object, dict[str, str]]:
    """Take a parcel in, move it, remind and declare it dead; the resident's SMS per cause.
    Sets ``parcel.codes``: the pickup code each cause's text must carry."""
    resident = world.residents[0]
    prefer(resident, "sms", language=language)
    with time_machine.travel(INTAKE, tick=False) as traveller:
        number = tracking()
        parcel = services.intake(world.counter, number, actor=world.clerk, phone=resident.phone)
        parcel = parcel.parcel
        first_code = parcel.pickup_code
        parcel = services.move(parcel, to_point=world.counter, actor=world.clerk)
        traveller.shift(dt.timedelta(days=2))
        outbox.parcel_reminder(parcel, 48, dt.datetime.now(dt.UTC))
        traveller.shift(dt.timedelta(days=6))
        outbox.parcel_dead(parcel)
    rows = Notification.objects.filter(parcel=parcel, channel="sms")
    parcel.codes = {cause: parcel.pickup_code for cause in CODED} | {"intake": first_code}
    return parcel, {row.cause: row.body for row in rows}


@pytest.mark.django_db
def test_every_chinese_resident_sms_carries_code_place_tail_and_deadline(world):
    parcel, texts = _all_texts(world, "zh-hans")
    assert set(CODED) <= set(texts)
    tail = parcel.tracking_number[-4:]
    for cause in CODED:
        text = texts[cause]
        assert re.search(rf"取件码{re.escape(parcel.codes[cause])}[，。]", text), text
        assert re.search(rf"运单尾号{tail}）", text) and re.search(r"运单尾号\d{4}", text), text
        assert ZH_DEADLINE.search(text), text
        assert "（尾号" not in text, "尾号 alone reads as a phone's tail"
    for cause in ("intake", "moved", "reminder"):
        assert f"已到{world.counter.name}，" in texts[cause]


@pytest.mark.django_db
def test_the_deadline_is_the_policy_moment_in_the_communitys_time(world):
    parcel, texts = _all_texts(world, "zh-hans")
    deadline = outbox._deadline_at(parcel)
    assert deadline is not None and deadline > parcel.intake_at
    expected = deadline_text(deadline, world.community.time_zone, "zh-hans")
    for cause in ("intake", "moved", "reminder"):
        assert ZH_DEADLINE.search(texts[cause]).group(1) == expected


@pytest.mark.django_db
def test_a_dead_parcel_is_offered_until_the_points_next_closing(world):
    _parcel, texts = _all_texts(world, "zh-hans")
    # Declared dead at 10:17 on 10 Dec local time; the counter closes at 20:00.
    assert "请12月10日20:00前取件，取件码" in texts["dead"]


@pytest.mark.django_db
def test_english_texts_are_plain_english_with_the_same_pieces(world):
    parcel, texts = _all_texts(world, "en")
    tail = parcel.tracking_number[-4:]
    for cause in CODED:
        text = texts[cause]
        assert f"tracking number ending {tail}" in text, text
        assert f"pickup code {parcel.codes[cause]}" in text, text
        assert EN_DEADLINE.search(text), text
        words = text.split("]", 1)[1].replace(world.counter.name, "")
        assert not re.search(r"[\u4e00-\u9fff]", words.replace("顺丰速运", "")), text
    assert texts["dead"].count(world.counter.name) == 1


@pytest.mark.django_db
def test_collected_and_returned_name_the_tracking_tail_too(world):
    resident = world.residents[0]
    prefer(resident, "sms")
    with time_machine.travel(INTAKE, tick=False):
        parcel = services.intake(
            world.counter, tracking(), actor=world.clerk, phone=resident.phone
        ).parcel
        services.hand_over(world.counter, [parcel], actor=world.clerk)
    body = Notification.objects.get(parcel=parcel, cause="collected").body
    assert f"运单尾号{parcel.tracking_number[-4:]}" in body
    assert "已于12月2日10:17由" in body


def test_deadline_format_has_no_leading_zeros_in_chinese():
    at = dt.datetime(2026, 3, 4, 1, 5, tzinfo=dt.UTC)
    assert deadline_text(at, "Asia/Shanghai", "zh-hans") == "3月4日09:05"
    assert deadline_text(at, "Asia/Shanghai", "en") == "09:05 on 4 Mar"
    assert deadline_text(at, "Asia/Urumqi", "zh-hans") == "3月4日07:05"


@pytest.mark.django_db
@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_each_piece_is_its_own_template_variable(world, peer, settings, provider):
    settings.NOTIFY_SMS = aliyun_config(peer) if provider == "aliyun" else tencent_config(peer)
    parcel, _texts = _all_texts(world, "en")  # the SMS pieces are the Chinese ones regardless
    with time_machine.travel(INTAKE + dt.timedelta(days=8, hours=1), tick=False):
        drain()
    assert peer.rejected == []
    received = [r for r in peer.received if r.provider == provider]
    assert len(received) == len(CODED)
    deadline = deadline_text(outbox._deadline_at(parcel), world.community.time_zone, "zh-hans")
    for cause, request in zip(CODED, _in_cause_order(received), strict=True):
        sent = json.loads(request.text)
        params = sent if provider == "aliyun" else dict(zip(SMS_PARAMS[cause], sent, strict=True))
        assert params["tail"] == parcel.tracking_number[-4:]
        assert params["point"] == world.counter.name
        assert params["code"] == parcel.codes[cause]
        assert re.fullmatch(r"\d{1,2}月\d{1,2}日\d{2}:\d{2}", params["deadline"])
        if cause != "dead":
            assert params["deadline"] == deadline
        assert all(0 < len(v) <= SMS_PARAM_MAX for v in params.values()), params


def _in_cause_order(received):
    rows = Notification.objects.filter(channel="sms")
    by_key = {row.dedup_key: row.cause for row in rows}
    return sorted(received, key=lambda r: CODED.index(by_key[r.key]))


def test_long_values_are_shortened_to_what_providers_take():
    from jianjian.notify.messages import sms_params

    params = sms_params("intake", {"point": "很" * 50, "code": "A1-2-003"})
    assert len(params["point"]) == SMS_PARAM_MAX and params["code"] == "A1-2-003"


def _readme_templates() -> dict[str, tuple[str, str]]:
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \| `([^`]+)` \| `([^`]+)` \|$", readme, re.M)
    return {cause: (aliyun, tencent) for cause, aliyun, tencent in rows}


def test_readme_lists_a_registrable_template_per_resident_cause():
    templates = _readme_templates()
    assert set(templates) == {*CODED, "collected", "returned", *ENDED_CAUSES}
    for cause, (aliyun, tencent) in templates.items():
        names = re.findall(r"\$\{(\w+)\}", aliyun)
        assert tuple(names) == SMS_PARAMS[cause], cause  # each once, in SMS_PARAMS order
        numbers = re.findall(r"\{(\d+)\}", tencent)
        assert numbers == [str(i) for i in range(1, len(names) + 1)], cause
        assert re.sub(r"\$\{\w+\}", "X", aliyun) == re.sub(r"\{\d+\}", "X", tencent)
        assert "XX" not in re.sub(r"\$\{\w+\}", "X", aliyun), "no two variables side by side"
        assert "【" not in aliyun and "[" not in aliyun
    assert "运单尾号${tail}" in templates["intake"][0]
    assert "取件码${code}" in templates["intake"][0] and "请${deadline}前" in templates["intake"][0]


@pytest.mark.django_db
def test_the_registered_template_reads_exactly_as_the_chinese_text(world):
    _parcel, _texts = _all_texts(world, "zh-hans")
    templates = _readme_templates()
    for row in Notification.objects.filter(channel="sms", cause__in=CODED):
        aliyun = templates[row.cause][0]
        filled = re.sub(r"\$\{(\w+)\}", lambda m, p=row.params: p[m.group(1)], aliyun)
        assert row.body == f"【{world.community.name}】{filled}"


@pytest.mark.django_db
def test_the_registered_pre_advice_endings_read_exactly_as_the_chinese_texts(world):
    from tests.notify.test_preadvice_notices import _texts

    templates = _readme_templates()
    texts = _texts(world, "zh-hans")
    assert set(texts) == set(ENDED_CAUSES)
    for cause, (_parcel, row) in texts.items():
        aliyun = templates[cause][0]
        filled = re.sub(r"\$\{(\w+)\}", lambda m, p=row.params: p[m.group(1)], aliyun)
        assert row.body == f"【{world.community.name}】{filled}", cause
