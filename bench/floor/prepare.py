"""Create the floor's tables and its recipients: ``python -m bench.floor.prepare PHONES``.

Run with ``FLOOR_DATABASE_URL`` naming an empty database; the phones are ``138`` + 8 digits, the
same numbers ``bench/api.py`` gives jianjian's residents, so both look up a known recipient.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.floor.settings")


def main() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from bench.floor.scans.models import Recipient

    call_command("migrate", run_syncdb=True, verbosity=0)
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    Recipient.objects.bulk_create(
        Recipient(phone=f"138{n:08d}", name=f"住户{n}", flat=f"{1 + n // 100}-1-{101 + n % 100}")
        for n in range(count)
    )


if __name__ == "__main__":
    main()
