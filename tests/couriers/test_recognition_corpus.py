"""A corpus of realistic tracking numbers per carrier (public samples, digits changed where the
format has no check digit) and what the counter must make of each."""

from __future__ import annotations

import json

import pytest

from jianjian.couriers.models import Carrier
from jianjian.couriers.recognition import CARRIERS, CHECKS, RULES, RULES_FILE, recognize

CORPUS: dict[str, list[str]] = {
    "sf": ["SF1428763095124", "SF3104592286017", "SFA012345678901"],
    "jd": ["JDVA11408814483", "JDVB02837465910", "JDX012345678901", "JDK004512398761"],
    "ems": [
        "9860401996391",  # China Post e-commerce parcel
        "1198765432101",  # EMS domestic
        "PA12345678901",
        "EA123456785CN",  # S10, check digit 5
        "LK987654312CN",  # S10 e-Packet
        "RB123456785GB",  # S10 from abroad, delivered by China Post
        "CP987654312DE",
    ],
    "zto": ["75166031906321", "73512345678901", "78312345678901", "780123456780", "739012345670"],
    "yto": ["YT7512345678901", "YT8899001122334"],
    "sto": ["77316523125896", "7712345678901234", "773123456789012"],
    "yunda": [
        "462598779470531",
        "312345678901234",
        "3101234567890",
        "3128765432109",
        "5123456789012",
    ],
    "jt": ["JT0006968326954", "JT3002232682242", "JT001234567890"],
    "deppon": ["DPK364112047425", "DPK300585915441"],
    "best": ["70577935260961", "BXA1234567890", "K812345678901"],
    "cainiao": ["621234567890123", "LP00123456789012"],
    "danniao": ["611090452344701", "690123456789012"],
    "ups": ["1Z5R89390357567127", "1Z879E930346834440", "1Z410E7W0392751591", "1Z8V92A70367203024"],
    "dhl": ["3318810025", "73891051146", "8487135506", "JJD0099999999", "GM2951173225174494"],
    "fedex": ["986578788855", "477179081230", "041441760228964", "9611020987654312345672"],
}


@pytest.mark.parametrize(
    ("carrier", "number"), [(c, n) for c, numbers in CORPUS.items() for n in numbers]
)
def test_each_carriers_numbers_are_recognised_as_that_carrier_alone(carrier, number):
    assert recognize(number).candidates == (carrier,)


def test_the_corpus_covers_every_carrier():
    assert set(CORPUS) == {code for code, _zh, _en in CARRIERS} - {"unknown"}


@pytest.mark.parametrize(
    ("number", "candidates"),
    [
        ("431234567890123", {"sto", "yunda"}),  # 15-digit 43…: both carriers publish it
        ("432542035598773", {"sto", "yunda"}),
    ],
)
def test_a_number_several_carriers_publish_offers_them_all(number, candidates):
    result = recognize(number)
    assert set(result.candidates) == candidates and result.ambiguous
    assert result.carrier == "unknown"


@pytest.mark.parametrize(
    "number",
    [
        "RB123456786US",  # S10 with a wrong check digit
        "EA123456789CN",
        "1Z5R89390357567128",  # UPS with a wrong check digit
        "3318810010",  # DHL waybill failing mod 7
        "996578788855",  # FedEx Express failing its check
        "ABC123456",
        "X900123",
    ],
)
def test_a_number_nothing_fits_is_unknown(number):
    assert recognize(number).candidates == ()


def test_a_domestic_number_is_not_made_ambiguous_by_a_foreign_fallback():
    # 780123456780 also passes FedEx Express's check digit; at a Chinese counter it is ZTO's.
    from jianjian.couriers.recognition import _fedex12

    assert _fedex12("780123456780")
    assert recognize("780123456780").candidates == ("zto",)


def test_every_rule_names_its_source_and_a_known_check():
    rows = json.loads(RULES_FILE.read_text(encoding="utf-8"))["rules"]
    assert len(rows) == len(RULES)
    for row in rows:
        assert len(row["source"]) > 20, row
        assert row.get("check") in (None, *CHECKS), row
    assert {r.carrier for r in RULES} == set(CORPUS)


@pytest.mark.django_db
def test_every_carrier_has_a_row_to_point_parcels_at():
    codes = set(Carrier.objects.values_list("code", flat=True))
    assert {code for code, _zh, _en in CARRIERS} <= codes
