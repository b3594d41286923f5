"""What changes between two rulebooks (`pumpdx kb diff OLD_KB NEW_KB`).

The rules, concepts and parameters added, removed or changed, and, for every case and
scenario file, the conclusions (and questions) gained and lost, with the rules that
derive them. This is how an author shows reviewers what an edit does.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel

from pumpdx.kb.loader import KnowledgeBase, LoadedRule

from .assess import Assessor
from .assessment import Assessment
from .casesuite import CaseRun, SuiteItem, run_item
from .registrydiff import RegistryDiff

Change = Literal["added", "removed", "changed"]


class ItemChange(BaseModel):
    kind: Literal["algorithm", "rule", "concept", "parameter"]
    id: str
    change: Change
    fields: list[str] = []
    detail: str = ""
    where: str = ""


class ConclusionDelta(BaseModel):
    id: str
    kind: str
    rules: list[str]


class CaseDelta(BaseModel):
    path: str
    id: str
    kind: Literal["case", "scenario"]
    gained: list[ConclusionDelta] = []
    lost: list[ConclusionDelta] = []
    old_status: str = ""
    new_status: str = ""
    error: str | None = None

    def changed(self) -> bool:
        return bool(self.gained or self.lost or self.error
                    or self.old_status != self.new_status)


class RuleConditionDiff(BaseModel):
    """A changed rule, condition by condition: lines removed (-) and added (+)."""

    rule: str
    where: str
    lines: list[str]


class KBDiff(BaseModel):
    old_version: str
    new_version: str
    changes: list[ItemChange]
    cases: list[CaseDelta]
    cases_run: int
    rule_diffs: list[RuleConditionDiff] = []
    registries: list[RegistryDiff] = []

    def changed_cases(self) -> list[CaseDelta]:
        return [c for c in self.cases if c.changed()]

    def any_change(self) -> bool:
        """Did the conclusions of any case, scenario or registry line change?"""
        return any(c.gained or c.lost for c in self.cases) or any(
            r.changed for r in self.registries)

    def by_conclusion(self) -> list[tuple[str, int, int]]:
        """(concept id, cases that gained it, cases that lost it), most changed first,
        over the case and scenario files and every registry line."""
        gained: dict[str, int] = {}
        lost: dict[str, int] = {}
        for c in self.cases:
            for d in c.gained:
                gained[d.id] = gained.get(d.id, 0) + 1
            for d in c.lost:
                lost[d.id] = lost.get(d.id, 0) + 1
        for r in self.registries:
            for cc in r.conclusions:
                gained[cc.id] = gained.get(cc.id, 0) + cc.gained
                lost[cc.id] = lost.get(cc.id, 0) + cc.lost
        ids = sorted(set(gained) | set(lost),
                     key=lambda i: (-(gained.get(i, 0) + lost.get(i, 0)), i))
        return [(i, gained.get(i, 0), lost.get(i, 0)) for i in ids]


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def _changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def _compare(kind: Literal["algorithm", "rule", "concept", "parameter"],
             old: Mapping[str, dict[str, Any]], new: Mapping[str, dict[str, Any]],
             where: Mapping[str, str]) -> list[ItemChange]:
    out = []
    for key in sorted(set(old) | set(new)):
        if key not in old:
            out.append(ItemChange(kind=kind, id=key, change="added", where=where.get(key, "")))
        elif key not in new:
            out.append(ItemChange(kind=kind, id=key, change="removed"))
        elif old[key] != new[key]:
            fields = _changed_fields(old[key], new[key])
            detail = ""
            if kind == "parameter" and "value" in fields:
                detail = (f"{json.dumps(old[key]['value'], sort_keys=True)} -> "
                          f"{json.dumps(new[key]['value'], sort_keys=True)}")
            out.append(ItemChange(kind=kind, id=key, change="changed", fields=fields,
                                  detail=detail, where=where.get(key, "")))
    return out


def kb_changes(old: KnowledgeBase, new: KnowledgeBase) -> list[ItemChange]:
    """Algorithms, rules, concepts and parameters added, removed or changed."""
    def rules(kb: KnowledgeBase) -> dict[str, dict[str, Any]]:
        return {lr.rule.id: {**_dump(lr.rule), "algorithm": lr.algorithm} for lr in kb.rules}

    def algorithms(kb: KnowledgeBase) -> dict[str, dict[str, Any]]:
        return {a.id: {"title": a.title, "cite": [_dump(c) for c in a.cite]}
                for a in kb.algorithms.values()}

    return [
        *_compare("algorithm", algorithms(old), algorithms(new),
                  {a.id: a.file for a in new.algorithms.values()}),
        *_compare("rule", rules(old), rules(new),
                  {lr.rule.id: f"{lr.file}:{lr.line}" for lr in new.rules}),
        *_compare("concept", {k: _dump(c) for k, c in old.concepts.items()},
                  {k: _dump(c) for k, c in new.concepts.items()},
                  {k: f"{f}:{n}" for k, (f, n) in new.concept_locations.items()}),
        *_compare("parameter", {k: _dump(p) for k, p in old.parameters.items()},
                  {k: _dump(p) for k, p in new.parameters.items()}, {}),
    ]


def rule_lines(lr: LoadedRule) -> list[str]:
    """A rule as lines that a condition-level diff compares."""
    from .explain import condition_text

    lines = [f"salience: {lr.rule.salience}", f"algorithm: {lr.algorithm}"]
    lines += [f"when[{i}] {condition_text(c)}" for i, c in enumerate(lr.rule.when)]
    lines += [f"then {condition_text(a)}" for a in lr.rule.then]
    return lines


def condition_diffs(old: KnowledgeBase, new: KnowledgeBase) -> list[RuleConditionDiff]:
    """For each rule in both rulebooks whose salience, conditions or actions differ, the
    lines removed and added."""
    before = {lr.rule.id: lr for lr in old.rules}
    out = []
    for lr in new.rules:
        prior = before.get(lr.rule.id)
        if prior is None:
            continue
        a, b = rule_lines(prior), rule_lines(lr)
        if a == b:
            continue
        lines: list[str] = []
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False
                                                          ).get_opcodes():
            if op != "equal":
                lines += [f"- {x}" for x in a[i1:i2]] + [f"+ {x}" for x in b[j1:j2]]
        out.append(RuleConditionDiff(rule=lr.rule.id, where=f"{lr.file}:{lr.line}",
                                     lines=lines))
    return out


def _derivations(assessment: Assessment) -> dict[str, ConclusionDelta]:
    out = {c.id: ConclusionDelta(id=c.id, kind=c.kind, rules=c.rules)
           for c in assessment.conclusions}
    out.update({q.id: ConclusionDelta(id=q.id, kind="question",
                                      rules=list(dict.fromkeys(a.rule for a in q.asked_by)))
                for q in assessment.questions})
    return out


def case_delta(old_run: CaseRun, new_run: CaseRun) -> CaseDelta:
    item = new_run.item
    delta = CaseDelta(path=item.path, id=item.id, kind=item.kind,
                      old_status=old_run.status, new_status=new_run.status)
    if item.error is not None:
        delta.error = item.error
        return delta
    if old_run.assessment is None or new_run.assessment is None:
        delta.error = "; ".join(f"{side} knowledge base: {run.error}" for side, run in
                                (("old", old_run), ("new", new_run)) if run.error)
        return delta
    before = _derivations(old_run.assessment)
    after = _derivations(new_run.assessment)
    delta.gained = [after[c] for c in after if c not in before]
    delta.lost = [before[c] for c in before if c not in after]
    return delta


def diff_kbs(old: Assessor, new: Assessor, items: Sequence[SuiteItem]) -> KBDiff:
    """Run every item on both rulebooks and compare."""
    cases = [case_delta(run_item(old, item), run_item(new, item)) for item in items]
    return KBDiff(old_version=old.kb.version, new_version=new.kb.version,
                  changes=kb_changes(old.kb, new.kb), cases=cases, cases_run=len(items),
                  rule_diffs=condition_diffs(old.kb, new.kb))


_SIGN = {"added": "+", "removed": "-", "changed": "~"}


def render_text(diff: KBDiff, old_name: str, new_name: str) -> str:
    out = [f"Knowledge base {diff.old_version} ({old_name}) -> {diff.new_version} ({new_name})"]
    out += ["", "Rulebook changes:" if diff.changes else "Rulebook changes: none"]
    for c in diff.changes:
        line = f"  {_SIGN[c.change]} {c.kind} {c.id}"
        if c.fields:
            line += ": " + ", ".join(c.fields)
        if c.detail:
            line += f" ({c.detail})"
        if c.where and c.change != "removed":
            line += f"  [{c.where}]"
        out.append(line)
    for rd in diff.rule_diffs:
        out += ["", f"Rule {rd.rule} [{rd.where}], conditions and actions:"]
        out += [f"    {line}" for line in rd.lines]
    summary = diff.by_conclusion()
    out += ["", "Summary by conclusion:" if summary else
            "Summary by conclusion: no case gains or loses a conclusion"]
    for cid, n_gained, n_lost in summary:
        parts = [f"lost in {n_lost} case{'s' * (n_lost != 1)}"] if n_lost else []
        parts += [f"gained in {n_gained} case{'s' * (n_gained != 1)}"] if n_gained else []
        out.append(f"  {cid}: {', '.join(parts)}")
    for reg in diff.registries:
        if reg.identical:
            out += ["", f"Registry {reg.path}: not run (the two knowledge bases are the "
                        "same version, so no line can change)"]
            continue
        out += ["", f"Registry {reg.path}: {reg.lines} lines, {reg.assessed} assessed on both, "
                    f"{reg.changed} with different conclusions, {reg.errors} not readable"]
        out += [f"  ERROR {e}" for e in reg.first_errors]
        for cc in reg.conclusions:
            for sign, n, lines in (("+", cc.gained, cc.gained_lines),
                                   ("-", cc.lost, cc.lost_lines)):
                if n:
                    shown = ", ".join(map(str, lines)) + (", ..." if n > len(lines) else "")
                    out.append(f"  {sign} {cc.id}: {n} line{'s' * (n != 1)} ({shown})")
    changed = diff.changed_cases()
    out += ["", f"Cases: {diff.cases_run} run on both, {len(changed)} with different results"]
    out += render_case_deltas(changed)
    return "\n".join(out) + "\n"


def render_case_deltas(cases: Iterable[CaseDelta]) -> list[str]:
    """The lines of each changed case: where it is, then + gained and - lost conclusions
    with the rules that derive them (also used by `pumpdx log replay`)."""
    out = []
    for case in cases:
        status = ""
        if case.kind == "scenario" and case.old_status != case.new_status:
            status = f": {case.old_status} -> {case.new_status}"
        out.append(f"  {case.path} ({case.kind} {case.id}){status}")
        if case.error:
            out.append(f"    ERROR {case.error}")
        for sign, deltas in (("+", case.gained), ("-", case.lost)):
            for d in deltas:
                out.append(f"    {sign} {d.id} ({d.kind}) <- {', '.join(d.rules) or '?'}")
    return out
