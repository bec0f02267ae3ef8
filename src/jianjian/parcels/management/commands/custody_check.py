"""``jianjian check``: fold every parcel's custody events and compare with what is stored."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jianjian.communities.models import Community
from jianjian.parcels.fold import check


class Command(BaseCommand):
    help = "Compare every parcel's state and place, and every point's on-hand count, with its custody events."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--community", help="short name (slug) of one community")

    def handle(self, *args: Any, **options: Any) -> None:
        community_id = None
        if options["community"]:
            community = Community.objects.filter(slug=options["community"]).first()
            if community is None:
                raise CommandError(f"no community with short name {options['community']!r}")
            community_id = community.pk
        report = check(community_id)
        for problem in report.problems:
            self.stdout.write(problem)
        summary = f"{report.parcels} parcels, {report.events} custody events, {len(report.problems)} differences"
        if report.problems:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(f"OK: {summary}"))
