"""A number that fits several carriers (STO's ``43…`` and Yunda's 15-digit ``4…``): intake asks
which one, unless the clerk picked it or pre-advice already says it."""

from __future__ import annotations

import itertools

import pytest
from django.utils import translation

from jianjian.parcels import services
from jianjian.parcels.errors import CarrierAmbiguous, InvalidInput
from jianjian.parcels.fold import check
from jianjian.parcels.models import CustodyEvent, Parcel

_n = itertools.count(1)


def both_sto_and_yunda() -> str:
    """15 digits starting 43: STO's format and Yunda's."""
    return f"43{next(_n) + 5_000_000:013d}"


def test_a_number_of_two_carriers_asks_which_and_writes_nothing(world):
    number = both_sto_and_yunda()
    with pytest.raises(CarrierAmbiguous) as exc:
        services.intake(
            world.counter, services.Scan(number, phone="13812345678"), actor=world.clerk
        )
    assert exc.value.code == "carrier_ambiguous"
    assert exc.value.details["candidates"] == ["sto", "yunda"]
    assert not Parcel.objects.filter(tracking_number=number).exists()


@pytest.mark.parametrize(
    ("language", "listed"),
    [("zh-hans", "（申通快递、韵达快递）"), ("en", "(STO Express, Yunda Express)")],
)
def test_the_candidates_are_listed_as_each_language_lists(world, language, listed):
    with translation.override(language), pytest.raises(CarrierAmbiguous) as exc:
        services.intake(
            world.counter, services.Scan(both_sto_and_yunda(), phone="138"), actor=world.clerk
        )
    assert listed in exc.value.message


def test_the_carrier_picked_is_the_parcels_carrier(world):
    number = both_sto_and_yunda()
    scan = services.Scan(number, phone="13812345678", carrier="yunda")
    result = services.intake(world.counter, scan, actor=world.clerk)
    assert result.created and result.parcel.carrier.code == "yunda"
    assert check(world.community.pk).ok


def test_a_pre_advised_number_keeps_its_carrier_without_asking(world):
    number = both_sto_and_yunda()
    services.announce(world.community, number, actor=world.clerk, carrier_code="sto")
    result = services.intake(
        world.counter, services.Scan(number, phone="13812345678"), actor=world.clerk
    )
    assert result.parcel.carrier.code == "sto"


@pytest.mark.parametrize(
    ("number", "carrier", "code"),
    [
        (None, "sf", "carrier_mismatch"),  # the number is not an SF number
        ("X77123456", "no-such", "carrier_unknown"),
    ],
)
def test_a_carrier_that_does_not_fit_is_refused(world, number, carrier, code):
    number = number or both_sto_and_yunda()
    scan = services.Scan(number, phone="13812345678", carrier=carrier)
    with pytest.raises(InvalidInput) as exc:
        services.intake(world.counter, scan, actor=world.clerk)
    assert exc.value.code == code
    assert not CustodyEvent.objects.filter(parcel__tracking_number=number).exists()


def test_a_number_of_unknown_format_takes_a_known_carrier_picked(world):
    scan = services.Scan("X77123457", phone="13812345678", carrier="deppon")
    assert services.intake(world.counter, scan, actor=world.clerk).parcel.carrier.code == "deppon"


def test_a_batch_answers_each_ambiguous_scan_and_takes_the_rest(world):
    ambiguous, picked = both_sto_and_yunda(), both_sto_and_yunda()
    outcomes = services.intake_many(
        world.counter,
        [
            services.Scan(ambiguous, phone="13812345678"),
            services.Scan(picked, phone="13812345678", carrier="sto"),
        ],
        actor=world.clerk,
    )
    refused, taken = outcomes
    assert isinstance(refused, CarrierAmbiguous)
    assert refused.details["candidates"] == ["sto", "yunda"]
    assert isinstance(taken, services.IntakeResult) and taken.parcel.carrier.code == "sto"
    assert not Parcel.objects.filter(tracking_number=ambiguous).exists()
