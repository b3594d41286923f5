"""Run a JSONL registry on two rulebooks and count what each conclusion gains and loses
(`pumpdx kb diff --cases registry.jsonl`).

Every line is read and validated once, as `pumpdx batch` reads it, then run on both
engines; only the concluded ids are compared (conclusions and questions), so no
Assessment is built. With jobs > 1 the lines are shared among worker processes, each
holding both engines (built once per process).
"""

from __future__ import annotations

import multiprocessing
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel

from .assess import Assessor, default_assessor
from .batch import read_lines
from .inputs import MAX_INPUT_BYTES, InputError, case_from_data, decode_input, parse_json

CHUNK = 64
EXAMPLES = 5


class LineDelta(NamedTuple):
    line: int
    gained: tuple[str, ...]
    lost: tuple[str, ...]
    error: str | None


class ConclusionCount(BaseModel):
    id: str
    gained: int = 0
    lost: int = 0
    gained_lines: list[int] = []
    lost_lines: list[int] = []


class RegistryDiff(BaseModel):
    path: str
    lines: int = 0
    assessed: int = 0
    changed: int = 0
    errors: int = 0
    first_errors: list[str] = []
    conclusions: list[ConclusionCount] = []
    identical: bool = False  # same knowledge-base version on both sides: not run


def concluded(assessor: Assessor, case: object) -> set[str]:
    trace = assessor.run(case)  # type: ignore[arg-type]
    return {str(f.content["id"]) for f in trace.facts if f.type == "conclusion"}


def diff_line(line: int, raw: bytes | None, old: Assessor, new: Assessor) -> LineDelta:
    name = f"line {line}"
    try:
        if raw is None:
            raise InputError(f"{name}: larger than {MAX_INPUT_BYTES} bytes; one case per line")
        text = decode_input(raw, name, "one JSON case per line")
        if not text.strip():
            raise InputError(f"{name}: empty line; expected one JSON case per line")
        case = case_from_data(parse_json(text, name), name)
        before, after = concluded(old, case), concluded(new, case)
    except InputError as exc:
        return LineDelta(line, (), (), str(exc))
    except Exception as exc:  # one bad case never stops the registry
        first = (str(exc).splitlines() or [""])[0]
        return LineDelta(line, (), (), f"{name}: internal error: {type(exc).__name__}: {first}")
    return LineDelta(line, tuple(sorted(after - before)), tuple(sorted(before - after)), None)


def diff_lines(numbered: list[tuple[int, bytes | None]], old_dir: str, new_dir: str
               ) -> list[LineDelta]:
    """Diff numbered lines on this process's two engines (picklable, for workers)."""
    old, new = default_assessor(old_dir), default_assessor(new_dir)
    return [diff_line(n, raw, old, new) for n, raw in numbered]


def _warm(old_dir: str, new_dir: str) -> None:
    default_assessor(old_dir)
    default_assessor(new_dir)


def _chunks(items: Iterable[tuple[int, bytes | None]]) -> Iterator[list[tuple[int, bytes | None]]]:
    chunk: list[tuple[int, bytes | None]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _deltas(lines: Iterable[tuple[int, bytes | None]], old_dir: str, new_dir: str,
            jobs: int) -> Iterator[LineDelta]:
    if jobs == 1:
        old, new = default_assessor(old_dir), default_assessor(new_dir)
        for n, raw in lines:
            yield diff_line(n, raw, old, new)
        return
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_warm,
                             initargs=(old_dir, new_dir)) as pool:
        pending: deque[Future[list[LineDelta]]] = deque()
        try:
            for chunk in _chunks(lines):
                pending.append(pool.submit(diff_lines, chunk, old_dir, new_dir))
                while len(pending) >= jobs * 4:
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def diff_registry(path: Path, old_dir: Path, new_dir: Path, jobs: int = 1,
                  shown: str | None = None) -> RegistryDiff:
    """Every line of the JSONL file at `path` on the KBs in `old_dir` and `new_dir`."""
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    out = RegistryDiff(path=shown or str(path))
    gained: Counter[str] = Counter()
    lost: Counter[str] = Counter()
    examples: dict[tuple[str, str], list[int]] = {}
    with path.open("rb") as handle:
        for d in _deltas(read_lines(handle), str(old_dir), str(new_dir), jobs):
            out.lines += 1
            if d.error is not None:
                out.errors += 1
                if len(out.first_errors) < EXAMPLES:
                    out.first_errors.append(d.error)
                continue
            out.assessed += 1
            if d.gained or d.lost:
                out.changed += 1
            for sign, ids, counter in (("+", d.gained, gained), ("-", d.lost, lost)):
                for cid in ids:
                    counter[cid] += 1
                    lines = examples.setdefault((sign, cid), [])
                    if len(lines) < EXAMPLES:
                        lines.append(d.line)
    out.conclusions = [
        ConclusionCount(id=cid, gained=gained[cid], lost=lost[cid],
                        gained_lines=examples.get(("+", cid), []),
                        lost_lines=examples.get(("-", cid), []))
        for cid in sorted(set(gained) | set(lost), key=lambda c: (-(gained[c] + lost[c]), c))]
    return out
