"""Carriers come from the process's memory after the first read, and a change is seen."""

from __future__ import annotations

import pytest
from django.db import transaction

from jianjian.couriers import carriers
from jianjian.couriers.models import Carrier

pytestmark = pytest.mark.django_db


def test_a_known_carrier_is_read_once(django_assert_num_queries):
    first = carriers.carrier("sf")
    with django_assert_num_queries(0):
        again = carriers.carrier("sf")
    assert again.pk == first.pk == Carrier.objects.get(code="sf").pk


def test_a_rename_here_is_seen_at_once():
    carriers.carrier("sf")
    sf = Carrier.objects.get(code="sf")
    sf.name = "顺丰速运"
    sf.save()
    assert carriers.carrier("sf").name == "顺丰速运"


def test_a_change_elsewhere_is_seen_once_the_entry_is_old(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(carriers.time, "monotonic", lambda: clock[0])
    carriers.forget()
    assert carriers.carrier("sf").name != "改名"
    Carrier.objects.filter(code="sf").update(name="改名")  # as another process would: no signal
    clock[0] += carriers.TTL + 1
    assert carriers.carrier("sf").name == "改名"


def test_a_carrier_made_in_a_rolled_back_transaction_is_not_remembered():
    with pytest.raises(RuntimeError), transaction.atomic():
        carriers.carrier("newco")
        raise RuntimeError("the scan failed")
    assert not Carrier.objects.filter(code="newco").exists()
    made = carriers.carrier("newco")
    assert Carrier.objects.filter(pk=made.pk, code="newco").exists()


def test_callers_get_their_own_copy():
    carriers.carrier("sf").name = "changed by one request"
    assert carriers.carrier("sf").name == Carrier.objects.get(code="sf").name
