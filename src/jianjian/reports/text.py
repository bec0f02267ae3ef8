"""The report as plain text, for ``jianjian report`` (cron, e-mail): the dashboard's figures."""

from __future__ import annotations

from django.utils.translation import gettext as _

from jianjian.reports.figures import Figures, Report
from jianjian.reports.templatetags.report_tags import hours, pct


def _cells(f: Figures) -> list[str]:
    return [
        str(f.intake),
        str(f.handovers),
        str(f.returns),
        str(f.on_hand),
        pct(f.capacity_used),
        hours(f.dwell_median),
        hours(f.dwell_p90),
        str(f.overdue),
        str(f.dead),
        pct(f.delivery_rate),
        pct(f.disinfection_on_time),
    ]


def _header(first: str) -> list[str]:
    return [
        first,
        _("intake"),
        _("handovers"),
        _("returns"),
        _("on hand"),
        _("capacity used"),
        _("dwell median"),
        _("dwell p90"),
        _("overdue"),
        _("dead"),
        _("notifications delivered"),
        _("disinfection on time"),
    ]


def _table(rows: list[list[str]]) -> str:
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            cell + " " * (w - _width(cell)) for cell, w in zip(r, widths, strict=True)
        ).rstrip()
        for r in rows
    )


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def render_text(report: Report) -> str:
    title = f"{report.community.name} · {report.start:%Y-%m-%d} – {report.end:%Y-%m-%d}"
    points = [_header(_("point"))]
    for p in report.points:
        points.append([f"{p.code} {p.name}", *_cells(report.totals[p.pk])])
    points.append([_("whole community"), *_cells(report.totals[None])])
    days = [_header(_("day"))]
    for f in report.series(None):
        assert f.day is not None
        days.append([f"{f.day:%Y-%m-%d}", *_cells(f)])
    return "\n\n".join([title, _table(points), _table(days)]) + "\n"
