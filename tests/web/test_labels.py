"""Label PDFs: rendered, then read back as text to check what the shelf and resident rely on."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from pdfminer.high_level import extract_text
from pdfminer.pdfpage import PDFPage

from jianjian.parcels import services
from jianjian.parcels.labels import LABEL_H, LABEL_W, label_data, render_labels
from tests.factories import tracking
from tests.web.conftest import make_clerk


def _pages(pdf: bytes) -> list:  # type: ignore[type-arg]
    return list(PDFPage.get_pages(io.BytesIO(pdf)))


def test_thermal_label_carries_code_masked_recipient_flat_and_date(world):
    parcel = services.intake(
        world.counter, tracking(), actor=world.clerk, phone_last4="5678", flat="3-2-501"
    ).parcel
    pdf = render_labels([label_data(parcel)], "thermal")
    text = extract_text(io.BytesIO(pdf))
    assert parcel.pickup_code in text
    assert "138****5678" in text and "张*" in text
    assert "3-2-501" in text
    assert f"{parcel.intake_at:%Y-}" in text
    assert "13812345678" not in text and "张三" not in text
    (page,) = _pages(pdf)
    width, height = page.mediabox[2], page.mediabox[3]
    assert (round(width), round(height)) == (round(LABEL_W), round(LABEL_H))


def test_a4_sheet_puts_many_labels_on_one_page(world):
    parcels = [
        services.intake(world.counter, tracking(), actor=world.clerk, phone=r.phone).parcel
        for r in world.residents[:2]
        for _ in range(3)
    ]
    pdf = render_labels([label_data(p) for p in parcels], "a4")
    assert len(_pages(pdf)) == 1
    text = extract_text(io.BytesIO(pdf))
    for parcel in parcels:
        assert parcel.pickup_code in text
    assert "139****5678" in text


def test_unknown_layout_is_refused(world):
    with pytest.raises(ValueError):
        render_labels([], "postcard")


def test_label_of_a_parcel_at_the_point_is_served_as_pdf(client, world):
    client.force_login(make_clerk(world))
    parcel = services.intake(
        world.counter, tracking(), actor=world.clerk, phone=world.residents[0].phone
    ).parcel
    response = client.get(reverse("counter:label", args=[world.counter.pk, parcel.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert parcel.pickup_code in extract_text(io.BytesIO(response.content))
