import pytest
from django.core.exceptions import ValidationError

from jianjian.couriers.recognition import normalize_tracking, recognize

# Real-format samples (digits changed): the carrier each must be recognised as.
SAMPLES = [
    ("SF1428763095124", "sf"),
    ("sf1428763095124", "sf"),
    ("JDVA24681357902", "jd"),
    ("JDX012345678901", "jd"),
    ("9812345678901", "ems"),
    ("1198765432101", "ems"),
    ("EA123456785CN", "ems"),
    ("73512345678901", "zto"),
    ("78312345678901", "zto"),
    ("YT7512345678901", "yto"),
    ("7712345678901234", "sto"),
    ("312345678901234", "yunda"),
    ("5123456789012", "yunda"),
    ("JT0012345678901", "jt"),
    ("DPK123456789012", "deppon"),
    ("621234567890123", "cainiao"),
    ("LP00123456789012", "cainiao"),
]


@pytest.mark.parametrize(("number", "carrier"), SAMPLES)
def test_real_format_samples_are_recognised(number, carrier):
    result = recognize(number)
    assert result.carrier == carrier
    assert not result.ambiguous


def test_overlapping_formats_return_every_candidate():
    # A 15-digit number starting 43 fits both STO's and Yunda's published formats.
    result = recognize("431234567890123")
    assert result.ambiguous
    assert set(result.candidates) == {"sto", "yunda"}
    assert result.carrier == "unknown"


def test_unknown_format_is_unknown_not_refused():
    result = recognize("ABC123456")
    assert result.candidates == ()
    assert result.carrier == "unknown"


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        (" sf 1428 7630 95124 ", "SF1428763095124"),
        ("ＳＦ１４２８７６３０９５１２４", "SF1428763095124"),
        ("73-5123-4567-8901\n", "73512345678901"),
    ],
)
def test_input_is_normalised(raw, normalised):
    assert normalize_tracking(raw) == normalised


@pytest.mark.parametrize("raw", ["", "  ", "快递", "SF1", "SF!@#$%^&*()", "x" * 41])
def test_junk_is_a_validation_error(raw):
    with pytest.raises(ValidationError):
        normalize_tracking(raw)
