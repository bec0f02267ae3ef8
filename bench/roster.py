"""Roster import: time to read, check and import a 5,000-resident roster (XLSX).

    python bench/roster.py --residents 5000 --database sqlite
    python bench/roster.py --residents 5000 --database postgres

On a fresh database with an empty community: builds an XLSX roster of ``--residents`` rows
(about 4 flats per 5 residents, spread over buildings and entrances), then times the two steps an
admin waits for — reading and checking the file (the preview's work) and the confirmed import
(buildings, flats and residents created in one transaction) — and a second import of the same
file, which must change nothing. Prints one line per step and the total.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup


def roster_file(n: int) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["房号", "手机号", "姓名", "已搬离"])
    for i in range(n):
        flat = i * 4 // 5  # some flats have two residents
        building, rest = divmod(flat, 4 * 30)
        entrance, number = divmod(rest, 30)
        code = f"{building + 1}-{entrance + 1}-{(number // 2 + 1) * 100 + number % 2 + 1}"
        sheet.append([code, f"139{i:08d}", f"住户{i}", ""])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=5000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    _setup.configure(args.database, "roster")

    from django.contrib.auth import get_user_model

    from jianjian.communities import roster
    from jianjian.communities.models import Community, Flat, Resident

    community = Community.objects.create(name="名册基准", slug="roster-bench")
    admin = get_user_model().objects.create_user("roster-bench-admin")
    data = roster_file(args.residents)
    print(f"machine: {_setup.machine()}; database: {args.database}")
    print(f"roster: {args.residents} residents, {len(data) // 1024} KiB XLSX")

    started = time.perf_counter()
    upload = roster.read_upload(community, "roster.xlsx", data, admin)
    checked = time.perf_counter()
    outcome = roster.apply(upload, admin)
    imported = time.perf_counter()
    again = roster.apply(roster.read_upload(community, "roster.xlsx", data, admin), admin)
    repeated = time.perf_counter()

    assert not upload.errors and outcome.added == args.residents, outcome
    sample = Resident.objects.filter(community=community).order_by("pk").last()
    assert sample is not None and sample.active and sample.created_at is not None, sample
    assert (again.added, again.changed, again.deactivated) == (0, 0, 0), again
    print(f"read + check: {checked - started:6.2f} s")
    print(
        f"import:       {imported - checked:6.2f} s "
        f"({outcome.added} residents, {outcome.flats_created} flats)"
    )
    print(f"total:        {imported - started:6.2f} s")
    print(f"same file again (read, check, import; nothing changes): {repeated - imported:.2f} s")
    print(
        f"in the database: {Resident.objects.filter(community=community).count()} residents, "
        f"{Flat.objects.filter(community=community).count()} flats"
    )


if __name__ == "__main__":
    main()
