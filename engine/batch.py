"""Assess a whole registry: one JSON case per input line, one result per output line.

    summary = run_batch("cases.jsonl", "results.jsonl", jobs=2)

Output line N belongs to input line N (first_line + N - 1 when a shard of a larger
file is assessed): the Assessment JSON, or an error record
`{"line": 7, "error": "line 7: reservoir.measured_volume_ml: ..."}`. A bad case
never stops the batch. The engine is built once per process (the default Assessor
of that process) and reset per case; worker processes are started with `spawn`, so
nothing is inherited from the caller's threads or state.

The results file is written to a nameless file in its folder and given its name
only when every line is done (pumpdx.engine.outputs): a crash, Ctrl-C, SIGTERM,
SIGKILL or a dead worker never leaves a half-written results file or a temporary
file (an older results file stays as it was). `-`, a device or a FIFO as `out` is
written through as the results come.

The same `run_batch` runs on one shard of a registry too: with `first_line` the
error records keep the line numbers of the whole file, and concatenating the shard
outputs in order gives the same bytes as one run over the file (docs/batch.md).
"""

from __future__ import annotations

import ctypes
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal, NamedTuple

from pumpdx.kb.loader import load_kb

from .assess import Assessor, default_assessor
from .inputs import MAX_INPUT_BYTES, InputError, case_from_line
from .outputs import output_stream
from .runtime import RunawayError

ErrorKind = Literal["input", "internal"]
#: Cases sent to a worker at a time, and chunks in flight per worker (bounds memory).
CHUNK_SIZE = 32
IN_FLIGHT_PER_WORKER = 4


class LineResult(NamedTuple):
    """One output line and what the summary needs to know about it."""

    output: str
    kinds: tuple[str, ...]  # kind of every conclusion, "question" for questions
    error: ErrorKind | None


@dataclass
class BatchSummary:
    lines: int = 0
    assessed: int = 0
    input_errors: int = 0
    internal_errors: int = 0
    conclusions: Counter[str] = field(default_factory=Counter)
    first_error: str | None = None

    @property
    def errors(self) -> int:
        return self.input_errors + self.internal_errors

    def add(self, result: LineResult) -> None:
        self.lines += 1
        if result.error is None:
            self.assessed += 1
            self.conclusions.update(result.kinds)
            return
        if result.error == "input":
            self.input_errors += 1
        else:
            self.internal_errors += 1
        if self.first_error is None:
            self.first_error = json.loads(result.output)["error"]

    def as_dict(self) -> dict[str, object]:
        return {"cases": self.lines, "assessed": self.assessed, "errors": self.errors,
                "input_errors": self.input_errors, "internal_errors": self.internal_errors,
                "conclusions_by_kind": dict(sorted(self.conclusions.items()))}


# -- one line -------------------------------------------------------------------------
def _error(line: int, message: str, kind: ErrorKind) -> LineResult:
    return LineResult(json.dumps({"line": line, "error": message}), (), kind)


def assess_line(line: int, raw: bytes | None, assessor: Assessor) -> LineResult:
    """Assess one input line (raw is None when the line was too long to read)."""
    name = f"line {line}"
    try:
        case = case_from_line(line, raw)
        assessment = assessor.assess(case)
    except InputError as exc:
        return _error(line, str(exc), "input")
    except RunawayError as exc:  # the case went over its budget: stopped, not crashed
        return _error(line, f"{name}: {exc}", "input")
    except Exception as exc:  # one bad case never stops the batch
        first = (str(exc).splitlines() or [""])[0]
        return _error(line, f"{name}: internal error: {type(exc).__name__}: {first}",
                      "internal")
    kinds = tuple(c.kind for c in assessment.conclusions) + ("question",) * len(
        assessment.questions)
    return LineResult(assessment.model_dump_json(), kinds, None)


def assess_lines(numbered: Iterable[tuple[int, bytes | None]], kb_dir: str | None = None
                 ) -> list[LineResult]:
    """Assess numbered lines on this process's engine (built on first use, then reused).

    This is the function to map over partitions on a distributed engine (Dask, Ray):
    it is picklable, and every worker process builds its engine once.
    """
    assessor = default_assessor(kb_dir)
    return [assess_line(n, raw, assessor) for n, raw in numbered]


# -- reading and writing ----------------------------------------------------------------
def read_lines(handle: BinaryIO, first_line: int = 1) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes without the newline); None for a line over MAX_INPUT_BYTES.

    A line is never read into memory beyond MAX_INPUT_BYTES + 1 bytes.
    """
    number = first_line
    while True:
        chunk = handle.readline(MAX_INPUT_BYTES + 1)
        if not chunk:
            return
        if chunk.endswith(b"\n"):
            yield number, chunk.rstrip(b"\r\n")
        elif len(chunk) <= MAX_INPUT_BYTES:
            yield number, chunk  # the last line, without a newline
        else:
            while chunk and not chunk.endswith(b"\n"):  # skip the rest of the long line
                chunk = handle.readline(MAX_INPUT_BYTES + 1)
            yield number, None
        number += 1


def count_lines(path: Path) -> int:
    """Lines in a file, as read_lines counts them (for a progress bar)."""
    count = 0
    last = b"\n"
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (0 if last == b"\n" else 1)


# -- the batch --------------------------------------------------------------------------
def _chunks(items: Iterable[tuple[int, bytes | None]], size: int
            ) -> Iterator[list[tuple[int, bytes | None]]]:
    chunk: list[tuple[int, bytes | None]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _die_with_parent(parent: int) -> None:
    """End this worker when the batch process ends, however it ends (SIGKILL too):
    Linux's PR_SET_PDEATHSIG where there is one, else a thread watching the parent."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        if libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0) == 0:
            if os.getppid() != parent:  # the parent died before prctl took effect
                os._exit(1)
            return
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="pumpdx-parent-watch", daemon=True).start()


def _warm_worker(kb_dir: str | None, parent: int) -> None:
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    default_assessor(kb_dir)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop the workers now: pending chunks are dropped, running ones killed."""
    workers = dict(getattr(pool, "_processes", None) or {})  # no public API in 3.11
    for process in workers.values():
        if process.is_alive():
            process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def _in_workers(lines: Iterable[tuple[int, bytes | None]], jobs: int, kb_dir: str | None,
                chunk_size: int) -> Iterator[LineResult]:
    """Results in input order, at most jobs * IN_FLIGHT_PER_WORKER chunks in flight.
    The workers end with this process; on any error or interruption they are stopped
    at once."""
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_warm_worker,
                               initargs=(kb_dir, os.getpid()))
    pending: deque[Future[list[LineResult]]] = deque()
    try:
        for chunk in _chunks(lines, chunk_size):
            pending.append(pool.submit(assess_lines, chunk, kb_dir))
            while len(pending) >= jobs * IN_FLIGHT_PER_WORKER:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown(wait=True)


def results(lines: Iterable[tuple[int, bytes | None]], jobs: int = 1,
            kb_dir: Path | str | None = None, assessor: Assessor | None = None,
            chunk_size: int = CHUNK_SIZE) -> Iterator[LineResult]:
    """Results of numbered lines, in order: in this process (jobs=1) or in workers."""
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    if jobs == 1 or assessor is not None:
        engine = assessor if assessor is not None else default_assessor(kb_dir)
        for n, raw in lines:
            yield assess_line(n, raw, engine)
        return
    yield from _in_workers(lines, jobs, None if kb_dir is None else str(kb_dir), chunk_size)


def run_batch(source: Path | str, out: Path | str, jobs: int = 1,
              kb_dir: Path | str | None = None, *, assessor: Assessor | None = None,
              first_line: int = 1, chunk_size: int = CHUNK_SIZE,
              progress: Callable[[BatchSummary], None] | None = None) -> BatchSummary:
    """Assess every line of `source` (a JSONL file, or '-' for stdin) into `out`.

    `assessor` runs the batch in this process on that engine (e.g. a KB loaded from
    elsewhere); otherwise jobs=1 uses this process's default engine and jobs>1 as
    many worker processes, each with its own engine. Raises KBLoadError if the
    knowledge base does not load, OSError if a file cannot be read or written;
    problems with single lines become error records.
    """
    if assessor is None:
        if jobs > 1:
            load_kb(kb_dir)  # fail here, once, rather than in every worker
        else:
            assessor = default_assessor(kb_dir)
    summary = BatchSummary()
    with _open_source(source) as handle, output_stream(out) as sink:
        lines = read_lines(handle, first_line)
        for result in results(lines, jobs, kb_dir, assessor, chunk_size):
            sink.write(result.output.encode("utf-8") + b"\n")
            summary.add(result)
            if progress is not None:
                progress(summary)
    return summary


@contextmanager
def _open_source(source: Path | str) -> Iterator[BinaryIO]:
    if str(source) == "-":
        yield sys.stdin.buffer
        return
    with Path(source).open("rb") as handle:
        yield handle
