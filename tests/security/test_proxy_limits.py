"""Proxy invitations text the invited phone: limits per resident and per phone per day, and a cap
on live grants, each refused with a message in the resident's language and no message sent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from jianjian.notify.models import Notification
from jianjian.parcels.errors import InvalidInput
from jianjian.residents import proxies

pytestmark = pytest.mark.django_db


def _phone(n: int) -> str:
    return f"1370000{n:04d}"


def _refused(resident, phone: str) -> InvalidInput:  # type: ignore[no-untyped-def]
    before = Notification.objects.count()
    with pytest.raises(InvalidInput) as exc:
        proxies.grant(resident, phone=phone, days=3)
    assert Notification.objects.count() == before  # no SMS for a refused invitation
    return exc.value


def test_a_resident_invites_at_most_five_proxies_a_day(world, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC))
    resident = world.residents[0]
    for n in range(proxies.PER_RESIDENT_PER_DAY):
        proxies.grant(resident, phone=_phone(n), days=3)
    refused = _refused(resident, _phone(99))
    assert refused.code == "too_many_invitations" and "明天再试" in refused.message
    with translation.override("en"):
        assert "try again tomorrow" in _refused(resident, _phone(99)).message
    time_machine.move_to(dt.datetime(2026, 3, 3, 9, 1, tzinfo=dt.UTC))
    proxies.grant(resident, phone=_phone(99), days=3)


def test_one_phone_is_invited_at_most_twice_a_day_by_anyone(world, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC))
    first, second, third = world.residents
    proxies.grant(first, phone=_phone(1), days=3)
    proxies.grant(second, phone=_phone(1), days=3)
    assert _refused(third, _phone(1)).code == "phone_invited_too_often"
    assert _refused(first, "137 0000 0001").code == "phone_invited_too_often"  # same number


def test_live_grants_are_capped_and_revoking_one_makes_room(world, time_machine):
    resident = world.residents[0]
    day = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    grants = []
    for n in range(proxies.MAX_LIVE_GRANTS):
        time_machine.move_to(day + dt.timedelta(days=n // proxies.PER_RESIDENT_PER_DAY, hours=n))
        grants.append(proxies.grant(resident, phone=_phone(n), days=30))
    time_machine.move_to(day + dt.timedelta(days=5))
    refused = _refused(resident, _phone(50))
    assert refused.code == "too_many_proxies" and "撤销" in refused.message
    proxies.revoke(grants[0])
    proxies.grant(resident, phone=_phone(50), days=30)
