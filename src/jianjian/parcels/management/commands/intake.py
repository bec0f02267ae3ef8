"""``jianjian intake FILE --community SLUG --point CODE``: take in a station's scan log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from jianjian import access, uploads
from jianjian.parcels import services
from jianjian.parcels.errors import ParcelError
from jianjian.parcels.models import Method
from jianjian.parcels.scanfile import read_scans
from jianjian.points.models import CollectionPoint

# Scans per transaction: the point's lock is let go between chunks, so the counter keeps working
# while a long log is taken in.
CHUNK = 200


class Command(BaseCommand):
    help = "Take in a file of scans (CSV or XLSX) at one point, as the counter would."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--community", required=True, help="the community's short name")
        parser.add_argument("--point", required=True, help="the point's code, e.g. A")
        parser.add_argument("--clerk", help="username of the clerk who scanned (default: cli)")

    def handle(self, *args: Any, **opts: Any) -> None:
        point = CollectionPoint.objects.filter(
            community__slug=opts["community"], code=opts["point"], active=True
        ).first()
        if point is None:
            raise CommandError(f"No open point {opts['point']!r} in {opts['community']!r}.")
        actor = self._actor(opts["clerk"], point)
        path: Path = opts["file"]
        try:
            found = read_scans(path.name, path.read_bytes())
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}") from None
        except uploads.UploadRefused as exc:
            raise CommandError(f"{path}: {exc.message}") from None
        refused = [(e.line, e.field, e.message) for e in found.errors]
        new = again = 0
        for start in range(0, len(found.scans), CHUNK):
            chunk = found.scans[start : start + CHUNK]
            outcomes = services.intake_many(
                point, [scan for _line, scan in chunk], actor=actor, method=Method.CLI
            )
            for (line, scan), outcome in zip(chunk, outcomes, strict=True):
                if isinstance(outcome, ParcelError):
                    refused.append((line, scan.tracking_number, outcome.message))
                elif outcome.duplicate:
                    again += 1
                else:
                    new += 1
        for line, what, message in sorted(refused):
            self.stderr.write(f"line {line}: {what}: {message}")
        self.stdout.write(
            f"{point.community.slug} {point.code}: {new} taken in, {again} already here, "
            f"{len(refused)} refused."
        )
        if refused:
            raise CommandError(f"{len(refused)} scans refused (listed above); the rest are in.")

    def _actor(self, username: str | None, point: CollectionPoint) -> services.Actor:
        if not username:
            return services.Actor.system("cli")
        refused = CommandError(f"{username!r} does not work at {point.code}.")
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise refused
        try:
            access.point_for(user, point.pk)
        except Http404:
            raise refused from None
        return services.Actor.of(user)
