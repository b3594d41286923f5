"""Author-time contradiction check (`pumpdx kb lint`, check `contradiction`).

Two concepts declared contradicting (`contradicts:` in concepts/) must never both be
concluded for one case. The safety tests check that on every scenario; this check
looks for a case the scenarios do not contain: for each declared pair, it merges a
case that concludes the one with a case that concludes the other (findings of both;
the first case's value where they disagree) and runs the merged case. A merged case
that concludes both is reported as a witness, with the rules that drew each. Every
witness is a real run of the engine, so nothing is reported that cannot happen; a pair
without a witness is not proven safe.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from pumpdx.kb.facts import Case
from pumpdx.kb.issues import KBIssue

from .assess import Assessor
from .assessment import Assessment
from .casesuite import SuiteItem

PER_SIDE = 4  # cases tried per concept of a pair (PER_SIDE ** 2 merges per pair)


def merge(a: Any, b: Any) -> Any:
    """Findings of both cases: mappings merged, lists joined without repeats, and the
    first case's value where both give a different one."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for key, value in b.items():
            out[key] = merge(a[key], value) if key in a else value
        return out
    if isinstance(a, list) and isinstance(b, list):
        return a + [x for x in b if x not in a]
    return a


def _pairs(assessor: Assessor) -> list[tuple[str, str]]:
    concepts = assessor.kb.concepts
    return sorted({(min(a, b), max(a, b)) for a, c in concepts.items() for b in c.contradicts
                   if b in concepts})


def _rules(a: Assessment, concept: str) -> list[str]:
    for c in a.conclusions:
        if c.id == concept:
            return c.rules
    return [q.rule for qu in a.questions if qu.id == concept for q in qu.asked_by]


def check_contradictions(assessor: Assessor, items: Sequence[SuiteItem]) -> list[KBIssue]:
    kb = assessor.kb
    cases: list[tuple[str, dict[str, Any], set[str]]] = []
    for item in items:
        if item.case is None:
            continue
        try:
            a = assessor.assess(item.case)
        except Exception:  # a case the engine cannot run is reported by kb test
            continue
        data = item.case.model_dump(mode="json", exclude_none=True)
        data.pop("case_id", None)
        data.pop("description", None)
        cases.append((item.path, data, a.conclusion_ids()))
    issues = []
    for first, second in _pairs(assessor):
        with_first = [c for c in cases if first in c[2]][:PER_SIDE]
        with_second = [c for c in cases if second in c[2]][:PER_SIDE]
        witness = _witness(assessor, first, second, with_first, with_second)
        if witness is None:
            continue
        case, a, sources = witness
        file, line = kb.concept_locations[first]
        issues.append(KBIssue(
            file, line, first,
            f"contradicts {second}, yet one case concludes both ({first} by rule "
            f"{', '.join(_rules(a, first))}; {second} by rule {', '.join(_rules(a, second))})"
            f"; witness ({sources}): {json.dumps(case, sort_keys=True, separators=(',', ':'))}",
            "contradiction"))
    return issues


def _witness(assessor: Assessor, first: str, second: str,
             with_first: list[tuple[str, dict[str, Any], set[str]]],
             with_second: list[tuple[str, dict[str, Any], set[str]]]
             ) -> tuple[dict[str, Any], Assessment, str] | None:
    for path, data, concluded in with_first:
        if second in concluded:  # a scenario already holds both
            case = Case.model_validate(data)
            return data, assessor.assess(case), path
    for path_a, a, _ in with_first:
        for path_b, b, _ in with_second:
            merged = merge(a, b)
            try:
                case = Case.model_validate(merged)
            except ValidationError:
                continue
            result = assessor.assess(case)
            ids = result.conclusion_ids()
            if first in ids and second in ids:
                return merged, result, f"{path_a} merged with {path_b}"
    return None
