"""The ``jianjian`` command: product verbs first, Django's management commands behind them."""

from __future__ import annotations

import os
import sys

USAGE = """usage: jianjian COMMAND [options]
       jianjian --version

  serve         run the web server and the notification worker
  worker        run only the notification worker
  demo          load the demo community (时代花园) and print its logins
  check         fold every parcel's custody events and compare with the stored state
  report        print the report figures: --community SLUG --from YYYY-MM-DD --to YYYY-MM-DD
  migrate       create or upgrade the database
  backup        consistent, checksummed copy of the database (--to DIR); prunes old copies
  restore FILE  verify a backup and restore it into an empty data directory / database
  createadmin   create an administrator
  import-manifest FILE --community SLUG   announce a CSV/XLSX manifest and allocate it
  intake FILE --community SLUG --point CODE [--clerk USER]
                take in a station's scan log (CSV/XLSX), as the counter would
  manage CMD    any Django management command (e.g. `jianjian manage check` for Django's own)

Configuration comes from JIANJIAN_* environment variables; see the README.
"""

# Product verbs whose Django command has another name. `check` is ours; Django's is `manage check`.
ALIASES = {"check": "custody_check", "import-manifest": "import_manifest"}


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jianjian.settings")
    if not args or args[0] in {"-h", "--help", "help"}:
        sys.stdout.write(USAGE)
        return
    if args[0] in {"--version", "version"}:
        from jianjian import __version__

        sys.stdout.write(f"jianjian {__version__}\n")
        return
    if args[0] == "manage":
        command = args[1:]
    else:
        command = [ALIASES.get(args[0], args[0]), *args[1:]]
    from django.core.management import execute_from_command_line

    from jianjian.ops.lifeline import follow_parent

    follow_parent()  # a helper of `jianjian serve` (worker, daily backup) ends when serve does
    execute_from_command_line(["jianjian", *command])


if __name__ == "__main__":
    main()
