"""CPU time spent during a load run, by who spent it: the web server's processes, PostgreSQL's
and the load generator's. Read from ``/proc`` (Linux), so a run can say how many milliseconds
of the machine's CPU one request costs each side, not only how many requests were answered."""

from __future__ import annotations

import os
from pathlib import Path

_TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[str, int, int]]:
    """pid -> (command name, parent pid, CPU ticks used so far)."""
    out: dict[int, tuple[str, int, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended while we looked
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        out[int(entry.name)] = (name, int(fields[1]), int(fields[11]) + int(fields[12]))
    return out


def snapshot(app_pid: int) -> dict[str, float]:
    """Milliseconds of CPU used so far by the app's process tree, by ``postgres`` and by ``wrk``."""
    procs = _processes()
    tree = {app_pid}
    grew = True
    while grew:
        grew = False
        for pid, (_name, parent, _ticks) in procs.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    totals = {"app": 0.0, "postgres": 0.0, "wrk": 0.0}
    for pid, (name, _parent, ticks) in procs.items():
        key = "app" if pid in tree else name if name in ("postgres", "wrk") else None
        if key:
            totals[key] += ticks * _TICK_MS
    return totals


def per_request(before: dict[str, float], after: dict[str, float], requests: int) -> str:
    """``app 5.1 + postgres 2.0 + wrk 0.3 ms of CPU a request``."""
    parts = [f"{k} {(after[k] - before[k]) / max(requests, 1):.2f}" for k in before]
    return " + ".join(parts) + " ms of CPU a request"
