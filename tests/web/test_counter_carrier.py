"""The counter asks which carrier a number of several is, with one button per carrier."""

from __future__ import annotations

import re

from django.urls import reverse

from jianjian.parcels.models import Parcel
from tests.parcels.test_scan_carrier import both_sto_and_yunda

HX = {"HTTP_HX_REQUEST": "true"}


def test_an_ambiguous_scan_offers_the_carriers_and_one_tap_takes_it_in(clerk_client, world):
    url = reverse("counter:scan", args=[world.counter.pk])
    number = both_sto_and_yunda()
    page = clerk_client.post(url, {"number": number, "phone": "13812345678"}, **HX)
    html = page.content.decode()
    assert 'data-outcome="carrier"' in html
    assert re.findall(r'data-carrier="(\w+)"', html) == ["sto", "yunda"]
    assert "<script" not in html and "style=" not in html
    assert not Parcel.objects.filter(tracking_number=number).exists()
    # The button's form carries the scan as typed, with its carrier.
    form = html[: html.index('data-carrier="yunda"')].rsplit("<form", 1)[1]
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))
    assert fields["number"] == number and fields["phone"] == "13812345678"
    assert fields["carrier"] == "yunda"
    done = clerk_client.post(url, fields, **HX).content.decode()
    assert 'data-outcome="taken"' in done
    assert Parcel.objects.get(tracking_number=number).carrier.code == "yunda"
