"""Parcel labels as PDF: one 40×30 mm label per page for thermal printers, or an A4 sheet.

A label carries what the clerk and the resident need at the shelf: the pickup code (large), a QR
code of the tracking number (so a scanner finds the parcel at pickup, returns or stocktake), the
masked recipient (``张*``, ``138****5678``), the flat and the date. Chinese text uses reportlab's
built-in CID font STSong-Light, which every PDF reader has, so no font file is shipped.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from jianjian.communities.phones import mask_name, mask_phone
from jianjian.parcels.models import Parcel

CJK_FONT = "STSong-Light"
CODE_FONT = "Helvetica-Bold"
LABEL_W, LABEL_H = 40 * mm, 30 * mm
THERMAL = "thermal"
SHEET = "a4"
LAYOUTS = (THERMAL, SHEET)
# A4 sheet: 4 × 8 labels of 40×30 mm with room between them to cut.
SHEET_COLS, SHEET_ROWS = 4, 8


def _register_fonts() -> None:
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


@dataclass(frozen=True)
class LabelData:
    code: str
    tracking_number: str
    name: str  # masked
    phone: str  # masked
    flat: str
    date: str
    point: str
    slot: str


def label_data(parcel: Parcel) -> LabelData:
    """What goes on ``parcel``'s label (the parcel must be at a point, with a code)."""
    tz = ZoneInfo(parcel.community.time_zone)
    when = (parcel.intake_at or dt.datetime.now(tz)).astimezone(tz)
    phone = mask_phone(parcel.recipient_phone) or (
        f"****{parcel.recipient_last4}" if parcel.recipient_last4 else ""
    )
    return LabelData(
        code=parcel.pickup_code,
        tracking_number=parcel.tracking_number,
        name=mask_name(parcel.recipient_name),
        phone=phone,
        flat=parcel.recipient_flat.code if parcel.recipient_flat else "",
        date=f"{when:%Y-%m-%d}",
        point=parcel.point.name if parcel.point else "",
        slot=parcel.slot.label if parcel.slot else "",
    )


def _draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """Draw the QR code as vector squares: sharp on a 203 dpi thermal head at any scale."""
    qr = segno.make(data, error="m")
    rows = list(qr.matrix_iter(border=0))
    module = size / len(rows)
    for r, row in enumerate(rows):
        for c, dark in enumerate(row):
            if dark:
                canvas.rect(
                    x + c * module, y + size - (r + 1) * module, module, module, stroke=0, fill=1
                )


def _fit(canvas: Canvas, text: str, font: str, size: float, width: float) -> float:
    """The largest font size up to ``size`` at which ``text`` fits in ``width``."""
    while size > 4 and canvas.stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def _draw_label(canvas: Canvas, label: LabelData, x: float, y: float) -> None:
    pad = 1.5 * mm
    qr_size = 15 * mm
    # The pickup code across the top, as large as fits.
    code_size = _fit(canvas, label.code, CODE_FONT, 20, LABEL_W - 2 * pad)
    canvas.setFont(CODE_FONT, code_size)
    canvas.drawString(x + pad, y + LABEL_H - pad - code_size * 0.8, label.code)
    # QR code bottom right; the recipient, flat and date to its left.
    _draw_qr(canvas, label.tracking_number, x + LABEL_W - pad - qr_size, y + pad, qr_size)
    text_w = LABEL_W - 3 * pad - qr_size
    lines = [
        (label.flat, 9),
        (" ".join(p for p in (label.name, label.phone) if p), 6.5),
        (label.date, 6.5),
        (label.tracking_number, 5.5),
    ]
    line_y = y + pad + qr_size - 3 * mm
    for text, size in lines:
        if not text:
            continue
        fitted = _fit(canvas, text, CJK_FONT, size, text_w)
        canvas.setFont(CJK_FONT, fitted)
        canvas.drawString(x + pad, line_y, text)
        line_y -= fitted + 1.6


def render_labels(labels: Sequence[LabelData], layout: str = THERMAL) -> bytes:
    """A PDF of ``labels``: one per 40×30 mm page (thermal), or 32 per A4 page (sheet)."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown label layout {layout!r}")
    _register_fonts()
    out = io.BytesIO()
    size = (LABEL_W, LABEL_H) if layout == THERMAL else A4
    canvas = Canvas(out, pagesize=size, pageCompression=1)
    canvas.setTitle("jianjian labels")
    if layout == THERMAL:
        for label in labels:
            _draw_label(canvas, label, 0, 0)
            canvas.showPage()
    else:
        _draw_sheet(canvas, labels)
    if not labels:
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def _draw_sheet(canvas: Canvas, labels: Sequence[LabelData]) -> None:
    page_w, page_h = A4
    gap_x = (page_w - SHEET_COLS * LABEL_W) / (SHEET_COLS + 1)
    gap_y = (page_h - SHEET_ROWS * LABEL_H) / (SHEET_ROWS + 1)
    per_page = SHEET_COLS * SHEET_ROWS
    for i, label in enumerate(labels):
        if i and i % per_page == 0:
            canvas.showPage()
        cell = i % per_page
        col, row = cell % SHEET_COLS, cell // SHEET_COLS
        x = gap_x + col * (LABEL_W + gap_x)
        y = page_h - (row + 1) * (LABEL_H + gap_y)
        # A light cut line around each label.
        canvas.setStrokeGray(0.75)
        canvas.setLineWidth(0.3)
        canvas.rect(x, y, LABEL_W, LABEL_H, stroke=1, fill=0)
        canvas.setFillGray(0)
        _draw_label(canvas, label, x, y)
    if labels:
        canvas.showPage()
