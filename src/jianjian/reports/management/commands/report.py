"""``jianjian report --community SLUG --from DATE --to DATE``: the dashboard's figures as text."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jianjian.communities.models import Community
from jianjian.reports.figures import RangeError, compute
from jianjian.reports.text import render_text


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date; write YYYY-MM-DD") from None


class Command(BaseCommand):
    help = "Print the report figures (per point and day) of one community for a date range."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--community", required=True, help="short name (slug)")
        parser.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        community = Community.objects.filter(slug=options["community"]).first()
        if community is None:
            raise CommandError(f"no community with short name {options['community']!r}")
        start, end = _date(options["start"]), _date(options["end"])
        try:
            report = compute(community, start, end)
        except RangeError:
            raise CommandError("--to must not be before --from, and at most 366 days") from None
        self.stdout.write(render_text(report), ending="")
