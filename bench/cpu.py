"""CPU time spent during a load run, by who spent it: the web server's processes and
PostgreSQL's. Read from ``/proc`` (Linux), so a run can say how many milliseconds of the
machine's CPU one request costs each side, not only how many requests were answered."""

from __future__ import annotations

import os
from pathlib import Path

_TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[str, int, int]]:
    """pid -> (command name, parent pid, CPU ticks used so far by it and its reaped children)."""
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
        # utime + stime + cutime + cstime: a process's own CPU and that of its children it
        # has reaped (a PostgreSQL backend that ended is counted in the postmaster's).
        used = sum(int(f) for f in fields[11:15])
        out[int(entry.name)] = (name, int(fields[1]), used)
    return out


Snapshot = dict[int, tuple[str, float]]  # pid -> (group, milliseconds of CPU so far)
GROUPS = ("app", "postgres")


def snapshot(app_pid: int) -> Snapshot:
    """CPU used so far by each process of the app's tree and of PostgreSQL."""
    procs = _processes()
    tree = {app_pid}
    grew = True
    while grew:
        grew = False
        for pid, (_name, parent, _ticks) in procs.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    found: Snapshot = {}
    for pid, (name, _parent, ticks) in procs.items():
        group = "app" if pid in tree else name if name == "postgres" else None
        if group:
            found[pid] = (group, ticks * _TICK_MS)
    return found


def per_request(before: Snapshot, after: Snapshot, requests: int) -> str:
    """``app 5.10 + postgres 2.00 ms of CPU a request``: what each group's processes used between
    the two snapshots. A process that started meanwhile counts from zero; one that ended counts
    through its parent, which reaped it (its CPU before the first snapshot taken off again)."""
    used = dict.fromkeys(GROUPS, 0.0)
    for pid, (group, ms) in after.items():
        used[group] += ms - before.get(pid, (group, 0.0))[1]
    for pid, (group, ms) in before.items():
        if pid not in after:
            used[group] -= ms
    parts = [f"{group} {used[group] / max(requests, 1):.2f}" for group in GROUPS]
    return " + ".join(parts) + " ms of CPU a request"
