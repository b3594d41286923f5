"""Run a JSONL registry on two rulebooks and count what each conclusion gains and loses
(`pumpdx kb diff --cases registry.jsonl`).

Every line is read and validated once, as `pumpdx batch` reads it, then run on the new
engine, and on the old one unless the run cannot differ there (`Shortcut`: no rule
that differs between the rulebooks fired, nor can the old version of one match); only
the concluded ids are compared (conclusions and questions), so no Assessment is
built. With jobs > 1 the lines are shared among worker processes, each holding both
engines (built once per process).
"""

from __future__ import annotations

import json
import multiprocessing
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel

from pumpdx.kb import calculations
from pumpdx.kb.facts import Case
from pumpdx.kb.loader import KnowledgeBase, LoadedRule
from pumpdx.kb.schema import AllCondition, AnyCondition, ComputeAction, NotCondition

from .assess import Assessor, default_assessor
from .batch import read_lines
from .conditions import ConditionEvaluator, FactBase
from .inputs import InputError, case_from_line
from .trace import Trace

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


def _ids(trace: Trace) -> set[str]:
    return {str(f.content["id"]) for f in trace.facts if f.type == "conclusion"}


def concluded(assessor: Assessor, case: Case) -> set[str]:
    return _ids(assessor.run(case))


def _rule_dump(lr: LoadedRule) -> Any:
    return (lr.algorithm, lr.rule.model_dump(mode="json", by_alias=True, exclude_none=True))


def _positive(conds: Sequence[Any]) -> list[Any] | None:
    """The conditions with every `not:` taken as holding; None when that makes them hold
    whatever the facts (an `any:` with an alternative that is only `not:`)."""
    out = []
    for cond in conds:
        if isinstance(cond, NotCondition):
            continue
        if isinstance(cond, AllCondition):
            inner = _positive(cond.all)
            if inner is None:
                return None
            out.extend(inner)
        elif isinstance(cond, AnyCondition):
            alternatives: list[list[Any]] = []
            for alt in cond.any:
                kept = _positive([alt])
                if not kept:  # an alternative that always holds: the any always holds
                    alternatives = []
                    break
                alternatives.append(kept)
            if not alternatives:
                continue
            out.append(AnyCondition.model_construct(
                any=[a[0] if len(a) == 1 else AllCondition.model_construct(all=a)
                     for a in alternatives]))
        else:
            out.append(cond)
    return out


@dataclass
class Shortcut:
    """When the old rulebook's run must equal the new one's, without running it.

    `changed` are the rules that differ (conditions, actions, salience, algorithm, a
    parameter or calculation they use), in either rulebook. If no changed rule of the
    new rulebook fired, and no changed rule of the old one can match its conditions
    other than `not:` on the new run's final facts, then the old run fires the same
    rules in the same order: at every step both agendas hold the same activations of
    unchanged rules (same facts so far, same relative order), the old one has no
    activation of a changed rule (facts only grow), and the new one never chose one.
    Any other difference between the rulebooks (drugs, signs, concept kinds, fact
    vocabulary) turns the shortcut off.
    """

    changed: frozenset[str]
    old_rules: list[tuple[str, list[Any]]]
    evaluator: ConditionEvaluator

    @classmethod
    def between(cls, old: KnowledgeBase, new: KnowledgeBase) -> Shortcut | None:
        if (old.agents != new.agents or old.signs != new.signs
                or {k: c.kind for k, c in old.concepts.items()}
                != {k: c.kind for k, c in new.concepts.items()}
                or {k: (t.origin, tuple(t.fields)) for k, t in old.fact_types.items()}
                != {k: (t.origin, tuple(t.fields)) for k, t in new.fact_types.items()}):
            return None
        params = {k for k in set(old.parameters) | set(new.parameters)
                  if old.parameters.get(k) != new.parameters.get(k)}
        before = {lr.rule.id: lr for lr in old.rules}
        after = {lr.rule.id: lr for lr in new.rules}
        changed = {r for r in set(before) | set(after)
                   if r not in before or r not in after
                   or _rule_dump(before[r]) != _rule_dump(after[r])}
        for lr in (*old.rules, *new.rules):
            if params and _uses(lr, params):
                changed.add(lr.rule.id)
        old_rules = []
        for rid in sorted(changed):
            if rid in before:
                conds = _positive(list(before[rid].rule.when))
                if not conds:
                    return None  # it can match anything: no shortcut
                old_rules.append((rid, conds))
        return cls(frozenset(changed), old_rules, ConditionEvaluator(old))

    def same_as_new(self, trace: Trace, kb: KnowledgeBase) -> bool:
        if any(f.rule in self.changed for f in trace.firings):
            return False
        facts = FactBase(trace.facts, kb)
        return all(self.evaluator.first_failure(conds, facts) is not None
                   for _rid, conds in self.old_rules)


def _uses(lr: LoadedRule, params: set[str]) -> bool:
    """Does the rule read one of these parameters (directly or through a calculation)?"""
    text = json.dumps(lr.rule.model_dump(mode="json", by_alias=True, exclude_none=True))
    if any(f'"param": "{p}"' in text for p in params):
        return True
    for action in lr.rule.then:
        if isinstance(action, ComputeAction):
            calc = calculations.CALCULATIONS.get(action.compute)
            if calc is None or set(calc.params) & params:
                return True
    return False


def diff_line(line: int, raw: bytes | None, old: Assessor, new: Assessor,
              shortcut: Shortcut | None = None) -> LineDelta:
    name = f"line {line}"
    try:
        case = case_from_line(line, raw)
        trace = new.run(case)
        after = _ids(trace)
        same = shortcut is not None and shortcut.same_as_new(trace, new.kb)
        before = after if same else concluded(old, case)
    except InputError as exc:
        return LineDelta(line, (), (), str(exc))
    except Exception as exc:  # one bad case never stops the registry
        first = (str(exc).splitlines() or [""])[0]
        return LineDelta(line, (), (), f"{name}: internal error: {type(exc).__name__}: {first}")
    return LineDelta(line, tuple(sorted(after - before)), tuple(sorted(before - after)), None)


def diff_lines(numbered: list[tuple[int, bytes | None]], old_dir: str, new_dir: str,
               use_shortcut: bool = True) -> list[LineDelta]:
    """Diff numbered lines on this process's two engines (picklable, for workers)."""
    old, new = default_assessor(old_dir), default_assessor(new_dir)
    shortcut = _shortcut(old_dir, new_dir) if use_shortcut else None
    return [diff_line(n, raw, old, new, shortcut) for n, raw in numbered]


_SHORTCUTS: dict[tuple[str, str], Shortcut | None] = {}


def _shortcut(old_dir: str, new_dir: str) -> Shortcut | None:
    key = (old_dir, new_dir)
    if key not in _SHORTCUTS:
        _SHORTCUTS[key] = Shortcut.between(default_assessor(old_dir).kb,
                                           default_assessor(new_dir).kb)
    return _SHORTCUTS[key]


def _warm(old_dir: str, new_dir: str) -> None:
    _shortcut(old_dir, new_dir)


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
            jobs: int, use_shortcut: bool) -> Iterator[LineDelta]:
    if jobs == 1:
        old, new = default_assessor(old_dir), default_assessor(new_dir)
        shortcut = _shortcut(old_dir, new_dir) if use_shortcut else None
        for n, raw in lines:
            yield diff_line(n, raw, old, new, shortcut)
        return
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_warm,
                             initargs=(old_dir, new_dir)) as pool:
        pending: deque[Future[list[LineDelta]]] = deque()
        try:
            for chunk in _chunks(lines):
                pending.append(pool.submit(diff_lines, chunk, old_dir, new_dir, use_shortcut))
                while len(pending) >= jobs * 4:
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def diff_registry(path: Path, old_dir: Path, new_dir: Path, jobs: int = 1,
                  shown: str | None = None, use_shortcut: bool = True) -> RegistryDiff:
    """Every line of the JSONL file at `path` on the KBs in `old_dir` and `new_dir`
    (`use_shortcut=False` runs every line on both engines)."""
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    out = RegistryDiff(path=shown or str(path))
    gained: Counter[str] = Counter()
    lost: Counter[str] = Counter()
    examples: dict[tuple[str, str], list[int]] = {}
    with path.open("rb") as handle:
        for d in _deltas(read_lines(handle), str(old_dir), str(new_dir), jobs, use_shortcut):
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
