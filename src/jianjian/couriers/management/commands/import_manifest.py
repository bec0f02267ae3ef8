"""``jianjian import-manifest FILE --community SLUG``: pre-advice from a CSV or XLSX file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from jianjian.communities.models import Community
from jianjian.couriers.manifests import ManifestError, import_rows, read_file
from jianjian.couriers.models import Carrier, Courier
from jianjian.parcels import services


class Command(BaseCommand):
    help = "Import a manifest (CSV or XLSX) of announced parcels and allocate them to points."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--community", required=True, help="the community's short name")
        parser.add_argument("--courier", type=int, help="id of the courier delivering them")
        parser.add_argument("--carrier", help="carrier code, e.g. sf (checks every number)")
        parser.add_argument(
            "--import-good-rows",
            action="store_true",
            help="import the valid rows even if some rows are bad",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        community = Community.objects.filter(slug=opts["community"]).first()
        if community is None:
            raise CommandError(f"No community {opts['community']!r}.")
        courier = carrier = None
        if opts["courier"] is not None:
            courier = Courier.objects.filter(pk=opts["courier"], communities=community).first()
            if courier is None:
                raise CommandError(f"No courier {opts['courier']} serves {community.slug}.")
        if opts["carrier"]:
            carrier = Carrier.objects.filter(code=opts["carrier"]).first()
            if carrier is None:
                raise CommandError(f"No carrier {opts['carrier']!r}.")
        path: Path = opts["file"]
        try:
            rows = read_file(path.name, path.read_bytes())
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}") from None
        except ManifestError as exc:
            raise CommandError(f"{path}: {exc.message}") from None
        bar = tqdm(
            total=len(rows),
            unit="parcel",
            disable=opts["no_progress"] or not sys.stderr.isatty(),
            file=sys.stderr,
        )
        with bar:
            report = import_rows(
                community,
                rows,
                actor=services.Actor.system("cli"),
                source="xlsx" if path.suffix.lower() in (".xlsx", ".xlsm") else "csv",
                courier=courier,
                carrier=carrier,
                filename=path.name,
                import_good_rows=opts["import_good_rows"],
                progress=bar.update,
            )
        for error in report.errors[:200]:
            self.stderr.write(f"line {error.line}: {error.field}: {error.message}")
        if len(report.errors) > 200:
            self.stderr.write(f"… and {len(report.errors) - 200} more bad rows")
        if report.manifest is None:
            raise CommandError(
                f"{len(report.errors)} bad rows: nothing imported "
                "(fix them, or pass --import-good-rows)."
            )
        if report.replayed:
            self.stdout.write(f"Already imported (manifest {report.manifest.pk}): nothing changed.")
            return
        self.stdout.write(
            f"Manifest {report.manifest.pk}: {report.imported} announced, "
            f"{report.already_known} already known, {len(report.errors)} bad rows skipped; "
            f"planned {report.planned}, overflow {report.overflow}."
        )
