"""A budget of CPU time and memory for one case: the engine is stopped beyond it.

A rule that joins many repeated facts can make experta's matching run for minutes
and take gigabytes on one case; `kb lint` refuses such rules (pumpdx.kb.joins), and
this is the engine's own guard for what lint cannot see. A watchdog thread reads
the CPU time of the thread running the case and the resident memory of the process
every few milliseconds; beyond the budget it raises CaseBudgetExceeded in that
thread (between two Python instructions: experta's matching is pure Python), which
the Assessor turns into RunawayError with a one-line message.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

#: CPU seconds one case may take (a case takes milliseconds; see docs/benchmarks.md).
MAX_CASE_CPU_SECONDS = 1.5
#: Memory (MB) the process may grow by while it assesses one case.
MAX_CASE_MEMORY_MB = 100
_POLL_SECONDS = 0.005


class CaseBudgetExceeded(BaseException):
    """Raised asynchronously in the thread whose case went over its budget. A
    BaseException, so that no `except Exception` on the way (experta has some)
    swallows it; the watchdog raises it again until the block has ended."""


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class Budget:
    """What stopped a case, once it has been stopped (`reason`)."""

    def __init__(self, cpu_seconds: float = MAX_CASE_CPU_SECONDS,
                 memory_mb: float = MAX_CASE_MEMORY_MB) -> None:
        self.cpu_seconds = cpu_seconds
        self.memory_mb = memory_mb
        self.reason: str | None = None


@contextlib.contextmanager
def case_budget(budget: Budget) -> Iterator[Budget]:
    """Run the block under a watchdog; CaseBudgetExceeded is raised in this thread when
    it uses more than the budget's CPU seconds or grows the process by its MB (the
    reason is then in `budget.reason`)."""
    cpu_seconds, memory_mb = budget.cpu_seconds, budget.memory_mb
    target = threading.get_ident()
    try:
        clock = time.pthread_getcpuclockid(target)
    except (AttributeError, OSError):  # not available: wall-clock time instead
        clock = time.CLOCK_MONOTONIC
    start_cpu = time.clock_gettime(clock)
    start_rss = _rss_bytes()
    done = threading.Event()

    def watch() -> None:
        while not done.wait(_POLL_SECONDS):
            if budget.reason is None:
                used = time.clock_gettime(clock) - start_cpu
                grown = (_rss_bytes() - start_rss) / 1e6 if start_rss else 0.0
                if used > cpu_seconds:
                    budget.reason = f"more than {cpu_seconds:g} s of CPU time"
                elif grown > memory_mb:
                    budget.reason = f"more than {memory_mb:g} MB of memory"
                else:
                    continue
            # raised (again) every poll until the block ends: one could be swallowed
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(target), ctypes.py_object(CaseBudgetExceeded))

    _ignore_swallowed_stops()
    watchdog = threading.Thread(target=watch, name="pumpdx-case-budget", daemon=True)
    watchdog.start()
    try:
        yield budget
    finally:
        stopped = False
        while not stopped:  # a stop raised while stopping the watchdog is caught here
            try:
                done.set()
                watchdog.join()
                # one may still be pending if the block ended just in time
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target), None)
                stopped = True
            except CaseBudgetExceeded:
                pass
    if budget.reason is not None:
        # over budget, but a stop was swallowed on the way (in a __del__, say): the
        # block's result cannot be trusted
        raise CaseBudgetExceeded()


def _ignore_swallowed_stops() -> None:
    """A stop raised where Python cannot propagate it (a finaliser) is reported as
    "Exception ignored" on stderr: not for ours, which are raised again anyway."""
    previous = sys.unraisablehook
    if getattr(previous, "pumpdx_budget", False):
        return

    def hook(unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, CaseBudgetExceeded):
            previous(unraisable)

    hook.pumpdx_budget = True  # type: ignore[attr-defined]
    sys.unraisablehook = hook
