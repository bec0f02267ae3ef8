"""Processes started by ``jianjian serve`` end when it ends, even when it is killed outright.

``serve`` stops its web workers and helpers (notification worker, daily backup) itself when it is
asked to stop. A SIGKILL (the OOM killer, a supervisor's last resort) gives it no chance: its
children would live on as orphans, the web workers still holding the port, so the next
``serve`` could not start, and a second notification worker would run beside the new one.
On Linux each child therefore asks the kernel for a signal when ``serve`` dies
(``PR_SET_PDEATHSIG``): SIGTERM for the helpers, which stop the ordinary way; SIGKILL for the web
workers (see ``jianjian.wsgi``).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

# Set by ``serve`` for the processes it starts: its own pid.
PARENT_ENV = "JIANJIAN_SERVE_PID"
_PR_SET_PDEATHSIG = 1


def mark_children() -> None:
    """Tell every process started from here on that ``serve`` is its parent."""
    os.environ[PARENT_ENV] = str(os.getpid())


def follow_parent(sig: signal.Signals = signal.SIGTERM) -> bool:
    """In a process started by ``serve``: get ``sig`` when it dies. Returns whether it will.

    A no-op outside ``serve`` and off Linux (there, only an orderly stop stops the children).
    """
    # Taken out so that what this process starts in turn does not think serve is its parent.
    expected = os.environ.pop(PARENT_ENV, None)
    if not expected or not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
        return False
    # The request only covers a parent alive when it is made: if serve died in between, this
    # process has been re-parented already and must stop now.
    if os.getppid() != int(expected):
        os.kill(os.getpid(), sig)
    return True
