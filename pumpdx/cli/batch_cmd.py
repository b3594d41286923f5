"""pumpdx batch CASES.jsonl --out RESULTS.jsonl [--jobs N]: assess a whole registry.

Progress goes to stderr: a live line on a terminal, a line every --progress-every
seconds otherwise (pumpdx.cli.progress); the summary closes with the cases per second.

One JSON case per input line; one output line per input line, in order: the
Assessment JSON or `{"line": N, "error": "..."}`. Exit codes: 0 every line
assessed; 1 some lines are error records (bad cases; the results file is complete);
3 some cases hit an internal error (also recorded; report it); 2 the batch could not
run at all (missing input, unwritable output, broken knowledge base) and nothing
was written.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from pumpdx.engine.assessment import KIND_ORDER
from pumpdx.engine.batch import BatchSummary, count_lines, run_batch
from pumpdx.engine.outputs import is_stream
from pumpdx.kb.issues import KBLoadError

from .common import EXIT_FAILED, EXIT_INTERNAL, EXIT_OK, CommandError, kb_error
from .progress import DEFAULT_EVERY_SECONDS, Progress


def register(sub: Any) -> None:
    p = sub.add_parser("batch", help="assess a JSONL file of cases (one case per line)")
    p.add_argument("cases", help="JSONL file, one JSON case per line ('-' reads stdin)")
    p.add_argument("--out", type=output_path, required=True,
                   help="results file (JSONL), written when the batch is complete; '-' "
                   "streams the results to standard output (the summary goes to stderr)")
    p.add_argument("--jobs", type=_jobs, default=None,
                   help=f"worker processes, each with its own engine (default: one per CPU, "
                   f"{cpu_count()} here, and no more than one per {LINES_PER_WORKER} "
                   f"lines; at most {MAX_JOBS_PER_CPU} per CPU)")
    p.add_argument("--kb", type=Path, help="knowledge-base folder (default: the shipped one)")
    p.add_argument("--progress-every", type=_seconds, default=DEFAULT_EVERY_SECONDS,
                   metavar="SECONDS",
                   help="when standard error is not a terminal (cron, CI, a log), print a "
                   f"progress line this often (default {DEFAULT_EVERY_SECONDS:g}); on a "
                   "terminal one line is kept up to date")
    p.add_argument("--quiet", action="store_true", help="no progress and no summary")
    p.set_defaults(handler=run)


#: A worker per this many input lines at most (starting one costs about a second).
LINES_PER_WORKER = 64
#: --jobs may not exceed this many workers per CPU (more only slows the batch down).
MAX_JOBS_PER_CPU = 4


def cpu_count() -> int:
    """CPUs this process may run on (its affinity mask, not the machine's CPU count)."""
    process_cpu_count: Callable[[], int | None] | None = getattr(os, "process_cpu_count",
                                                                  None)  # Python 3.13+
    if process_cpu_count is not None:
        return max(1, process_cpu_count() or 1)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text[:40]!r}"
                                         ) from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text[:40]}")
    return value


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text[:40]!r}") from None
    limit = MAX_JOBS_PER_CPU * cpu_count()
    if not 1 <= value <= limit:
        raise argparse.ArgumentTypeError(f"must be between 1 and {limit} ({MAX_JOBS_PER_CPU} "
                                         f"per CPU, {cpu_count()} CPUs), got {value}")
    return value


def output_path(text: str) -> Path:
    """--out: a path, or '-'; an empty one is an error (it would mean this folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("empty path; give a file name, or - for stdout")
    return Path(text)


def default_jobs(total: int | None) -> int:
    """One worker per CPU, but no more than the input needs."""
    if total is None:
        return cpu_count()
    return max(1, min(cpu_count(), -(-total // LINES_PER_WORKER)))


def _is_stdout(out: Path) -> bool:
    """`-`, or a path to this process's standard output (/dev/stdout, /dev/fd/1)."""
    if str(out) == "-":
        return True
    try:
        target, stdout = os.stat(out), os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return (target.st_dev, target.st_ino) == (stdout.st_dev, stdout.st_ino)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that the batch stops and cleans up the same way."""


def _on_sigterm(_signum: int, _frame: Any) -> None:
    raise _Terminated()


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def format_summary(summary: BatchSummary, seconds: float, jobs: int) -> str:
    """The closing lines: counts, time, cases per second over the whole run, kinds."""
    kinds = sorted(summary.conclusions.items(),
                   key=lambda kv: (KIND_ORDER.index(kv[0]) if kv[0] in KIND_ORDER else 99,
                                   kv[0]))
    by_kind = ", ".join(f"{kind} {n}" for kind, n in kinds) or "none"
    rate = summary.lines / seconds if seconds > 0 else 0.0
    return (f"{summary.lines} cases in {seconds:.1f} s, {rate:,.0f} cases/s ({jobs} "
            f"{'worker' if jobs == 1 else 'workers'}): {summary.assessed} assessed, "
            f"{_count(summary.errors, 'error')} ({summary.input_errors} bad input, "
            f"{summary.internal_errors} internal)\n"
            f"conclusions by kind: {by_kind}")


def run(args: argparse.Namespace) -> int:
    source: str = args.cases
    out: Path = args.out
    to_stdout = _is_stdout(out)
    total: int | None = None
    if source != "-":
        path = Path(source)
        if not path.exists():
            raise CommandError(f"{source}: no such file")
        if path.is_dir():
            raise CommandError(f"{source}: is a folder; give the cases file (JSONL)")
        if not is_stream(out) and path.resolve() == out.resolve():
            raise CommandError(f"{out}: the results file would replace the cases file")
        if path.is_file():
            try:
                total = count_lines(path)
            except OSError as exc:
                raise CommandError(f"{source}: cannot read: {exc.strerror}") from None
    if out.is_dir():
        raise CommandError(f"{out}: is a folder; give the results file name")
    jobs = args.jobs if args.jobs is not None else default_jobs(total)
    if jobs > cpu_count():
        print(f"pumpdx: warning: --jobs {jobs} is more than the {cpu_count()} CPUs; "
              f"extra workers only slow the batch down", file=sys.stderr)
    shown = None if args.quiet else Progress(sys.stderr, total, live=_is_terminal(sys.stderr),
                                             every=args.progress_every)

    def progress(summary: BatchSummary) -> None:
        if shown is not None:
            shown.update(summary.lines, summary.errors)

    started = time.monotonic()
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        summary = run_batch(source, out, jobs=jobs, kb_dir=args.kb, progress=progress)
    except KBLoadError as exc:
        raise kb_error(exc) from None
    except OSError as exc:
        where = exc.filename or out
        raise CommandError(f"{where}: {exc.strerror or exc}") from None
    except _Terminated:
        raise CommandError("terminated (SIGTERM); no results written", EXIT_INTERNAL) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
        if shown is not None:
            shown.close()
    if not args.quiet:
        report = sys.stderr if to_stdout else sys.stdout
        print(format_summary(summary, time.monotonic() - started, jobs), file=report)
        print(f"wrote {'standard output' if to_stdout else out}", file=report)
    if summary.errors:
        what = "internal error" if summary.internal_errors else "bad input"
        print(f"pumpdx: error: {summary.errors} of {summary.lines} lines not assessed "
              f"({what}; error records in {out}); first: {summary.first_error}",
              file=sys.stderr)
        return EXIT_INTERNAL if summary.internal_errors else EXIT_FAILED
    return EXIT_OK
