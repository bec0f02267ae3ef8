"""When a pre-advice ends, the resident it names is told how — once per ending, in their
language, in the same transaction — and the SMS texts keep the conventions of the others."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.db import transaction

from jianjian.notify.messages import SMS_PARAMS
from jianjian.notify.models import Notification
from jianjian.notify.sweeps import run_sweeps
from jianjian.parcels import services
from jianjian.parcels.matching import RecipientInfo
from jianjian.parcels.models import Parcel
from tests.factories import World, tracking
from tests.notify.conftest import prefer

pytestmark = pytest.mark.django_db

# 10:17 in Shanghai, outside quiet hours.
AT = dt.datetime(2026, 12, 2, 2, 17, tzinfo=dt.UTC)
ENDINGS = ("elsewhere_door", "elsewhere_neighbour", "cancelled", "expired", "released")


def _announced(world: World) -> Parcel:
    parcel, _created = services.announce(
        world.community,
        tracking(),
        actor=world.clerk,
        recipient=RecipientInfo(resident=world.residents[0]),
        courier=world.sf_courier,
    )
    return parcel


def _end(world: World, cause: str) -> Parcel:
    parcel = _announced(world)
    actor = services.Actor.system("courier-app")
    if cause == "elsewhere_door":
        services.delivered_elsewhere(parcel, actor=actor, place="door")
    elif cause == "elsewhere_neighbour":
        services.delivered_elsewhere(parcel, actor=actor, place="neighbour", holder="王五 3-2-601")
    elif cause == "cancelled":
        services.cancel_announced(parcel, actor=actor, reason="寄件人撤回")
    else:
        reason = "overflow" if cause == "released" else "age"
        services.expire_announced(parcel, actor=actor, reason=reason)
    return parcel


def _texts(world: World, language: str) -> dict[str, tuple[Parcel, Notification]]:
    prefer(world.residents[0], "sms", language=language)
    out = {}
    with time_machine.travel(AT, tick=False):
        for cause in ENDINGS:
            parcel = _end(world, cause)
            [row] = Notification.objects.filter(parcel=parcel)  # one message per ending
            out[cause] = (parcel, row)
    return out


def test_each_ending_tells_the_resident_once_in_chinese(world):
    texts = _texts(world, "zh-hans")
    for cause, (parcel, row) in texts.items():
        assert row.cause == cause and row.address == world.residents[0].phone
        assert re.search(rf"运单尾号{parcel.tracking_number[-4:]}）", row.body), row.body
        assert "（尾号" not in row.body
        assert set(row.params) == set(SMS_PARAMS[cause])
        assert row.params["tail"] == parcel.tracking_number[-4:]
    assert "已于12月2日10:17由顺丰速运快递员送到家门口" in texts["elsewhere_door"][1].body
    assert "交给邻居王五 3-2-601代收" in texts["elsewhere_neighbour"][1].body
    assert texts["elsewhere_neighbour"][1].params["holder"] == "王五 3-2-601"
    assert "取消" in texts["cancelled"][1].body
    assert "预报后7天仍未送到代收点" in texts["expired"][1].body
    assert "超过2天没有空位" in texts["released"][1].body


def test_each_ending_tells_the_resident_once_in_english(world):
    texts = _texts(world, "en")
    for _cause, (parcel, row) in texts.items():
        assert f"tracking number ending {parcel.tracking_number[-4:]}" in row.body
        words = row.body.split("]", 1)[1].replace("顺丰速运", "").replace("王五", "")
        assert not re.search(r"[\u4e00-\u9fff]", words), row.body
        # The provider's template is Chinese whatever the resident reads.
        assert not re.search(r"[A-Za-z]{3}", row.params.get("time", "")), row.params
    assert "delivered to your door at 10:17 on 2 Dec" in texts["elsewhere_door"][1].body
    assert "with your neighbour 王五 3-2-601" in texts["elsewhere_neighbour"][1].body
    assert "within 7 days" in texts["expired"][1].body


def test_the_message_is_written_with_the_ending_or_not_at_all(world):
    parcel = _announced(world)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.delivered_elsewhere(parcel, actor=world.clerk, place="door")
        raise RuntimeError("the request failed after the verb")
    assert not Notification.objects.filter(parcel=parcel).exists()
    parcel.refresh_from_db()
    assert parcel.state == "announced" and parcel.event_count == 1


def test_a_parcel_with_no_phone_tells_nobody_and_still_ends(world):
    parcel, _created = services.announce(world.community, tracking(), actor=world.clerk)
    services.cancel_announced(parcel, actor=world.clerk)
    assert not Notification.objects.filter(parcel=parcel).exists()


def test_the_couriers_group_hears_of_what_expired(world):
    from jianjian.notify.models import GroupRobot

    GroupRobot.objects.create(
        community=world.community,
        name="快递员群",
        kind="wecom",
        webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
        purpose="couriers",
    )
    with time_machine.travel(AT, tick=False):
        parcel = _announced(world)
    later = AT + dt.timedelta(days=9)
    with time_machine.travel(later, tick=False):
        run_sweeps(later)
    [group] = Notification.objects.filter(cause="preadvice_ended_group")
    assert parcel.tracking_number in group.body
    [courier] = Notification.objects.filter(cause="preadvice_ended_courier")
    assert courier.address == world.sf_courier.phone
    assert courier.params["count"] == "1" and parcel.tracking_number in courier.params["numbers"]
