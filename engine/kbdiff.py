"""What changes between two rulebooks (`pumpdx kb diff OLD_KB NEW_KB`).

The rules, concepts and parameters added, removed or changed, and, for every case and
scenario file, the conclusions (and questions) gained and lost, with the rules that
derive them. This is how an author shows reviewers what an edit does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel

from pumpdx.kb.loader import KnowledgeBase

from .assess import Assessor
from .assessment import Assessment
from .casesuite import CaseRun, SuiteItem, run_item

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


class KBDiff(BaseModel):
    old_version: str
    new_version: str
    changes: list[ItemChange]
    cases: list[CaseDelta]
    cases_run: int

    def changed_cases(self) -> list[CaseDelta]:
        return [c for c in self.cases if c.changed()]


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
                  changes=kb_changes(old.kb, new.kb), cases=cases, cases_run=len(items))


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
