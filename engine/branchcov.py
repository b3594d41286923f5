"""Branch coverage of the rules by the scenarios (`pumpdx kb coverage --branches`).

Rule coverage counts a rule as covered when it fires once; a rule whose second `any:`
alternative is wrong is then still "covered". Branch coverage looks inside the rules:

- every alternative of every `any:` is **exercised** when a scenario fires the rule
  through it (the alternative holds on the facts that firing matched);
- every `not:` has two outcomes: it **held** for a firing of its rule, and it
  **blocked** the rule in a scenario where all the rule's other conditions hold;
- every field test (each `where:` entry of a pattern) has two outcomes: a fact of its
  type **passed** it in a firing of its rule (under `not:`: in some scenario), and a
  fact of its type **failed** it in some scenario.

Conditions are evaluated with the compiled patterns (engine/conditions.py). A scenario
that cannot be run counts for nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal

from pydantic import BaseModel

from pumpdx.kb.loader import KnowledgeBase, LoadedRule
from pumpdx.kb.rulelang import PatternCondition, children, walk

from .casesuite import CaseRun
from .conditions import ConditionEvaluator, Env, FactBase

BranchKind = Literal["alternative", "not", "field"]


class Branch(BaseModel):
    rule: str
    where: str
    path: str
    kind: BranchKind
    text: str
    # alternative: [exercised]; not: [held, blocked]; field: [passed, failed]
    outcomes: dict[str, list[str]]

    def covered(self) -> bool:
        return all(self.outcomes.values())


class BranchCoverage(BaseModel):
    kb_version: str
    scenario_count: int
    branches: list[Branch]

    def of_kind(self, kind: BranchKind) -> list[Branch]:
        return [b for b in self.branches if b.kind == kind]

    def figures(self) -> dict[str, tuple[int, int]]:
        """(covered, total) per measure."""
        alts = self.of_kind("alternative")
        nots = self.of_kind("not")
        fields = self.of_kind("field")
        return {
            "any: alternatives exercised": (sum(b.covered() for b in alts), len(alts)),
            "not: held in a firing": (sum(bool(b.outcomes["held"]) for b in nots), len(nots)),
            "not: blocked its rule": (sum(bool(b.outcomes["blocked"]) for b in nots),
                                      len(nots)),
            "field tests passed": (
                sum(bool(b.outcomes["passed"]) for b in fields), len(fields)),
            "field tests failed by a fact": (
                sum(bool(b.outcomes["failed"]) for b in fields), len(fields)),
            "branch outcomes (all of the above)": (
                sum(sum(bool(v) for v in b.outcomes.values()) for b in self.branches),
                sum(len(b.outcomes) for b in self.branches)),
        }


def _text(cond: Any) -> str:
    from .explain import condition_text

    return condition_text(cond)


def _points(conds: Sequence[Any], path: str, negated: bool = False
            ) -> Iterator[tuple[str, str, Any, list[Any]]]:
    """(kind, path, condition, the condition list it belongs to) of every branch point;
    a field test under `not:` is (pattern, field, True)."""
    for site in walk(conds, (path,), under_not=negated):
        cond, here, siblings = site.cond, site.path, list(site.siblings)
        group = children(cond)
        if isinstance(cond, PatternCondition):
            for name in cond.where:
                yield "field", f"{here}.where.{name}", (cond, name, site.under_not), siblings
        elif group is not None and group[0] == "not":
            yield "not", here, cond, siblings
        elif group is not None and group[0] == "any":
            for j, alt in enumerate(group[1]):
                yield "alternative", f"{here}.any[{j}]", alt, siblings


class _RuleBranches:
    def __init__(self, lr: LoadedRule) -> None:
        self.lr = lr
        self.branches: list[tuple[str, Any, list[Any], Branch]] = []
        for kind, path, cond, siblings in _points(list(lr.rule.when), "when"):
            if kind == "field":
                pattern, name, _negated = cond
                spec = pattern.where[name]
                text = f"{pattern.fact}.{name}: " + (
                    _text(spec).strip() if not isinstance(spec, str | int | float | bool)
                    else repr(spec))
                outcomes: dict[str, list[str]] = {"passed": [], "failed": []}
            elif kind == "not":
                text, outcomes = _text(cond), {"held": [], "blocked": []}
            else:
                text, outcomes = _text(cond), {"exercised": []}
            self.branches.append((kind, cond, siblings, Branch(
                rule=lr.rule.id, where=f"{lr.file}:{lr.line}", path=path,
                kind=kind, text=text, outcomes=outcomes)))  # type: ignore[arg-type]


def _add(values: list[str], item: str) -> None:
    if item not in values:
        values.append(item)


def compute_branch_coverage(kb: KnowledgeBase, scenarios: Sequence[CaseRun]
                            ) -> BranchCoverage:
    evaluator = ConditionEvaluator(kb)
    rules = [_RuleBranches(lr) for lr in kb.rules]
    runs = [r for r in scenarios if r.assessment is not None]
    for run in runs:
        assert run.assessment is not None
        trace = run.assessment.trace
        facts = FactBase(trace.facts, kb)
        firings: dict[str, list[list[int]]] = {}
        for f in trace.firings:
            firings.setdefault(f.rule, []).append(f.matched)
        name = run.item.id
        for rb in rules:
            fired = firings.get(rb.lr.rule.id, [])
            matched_bases = [FactBase([facts.by_id[i] for i in m], kb)
                             for m in fired]
            for kind, cond, siblings, branch in rb.branches:
                if kind == "alternative":
                    if any(evaluator.match(cond, [Env()], base, negated_on=facts)
                           for base in matched_bases):
                        _add(branch.outcomes["exercised"], name)
                elif kind == "not":
                    if fired:
                        _add(branch.outcomes["held"], name)
                    others = [c for c in siblings if c is not cond]
                    if not fired and evaluator.match_all(others, [Env()], facts) and \
                            not evaluator.match_all(siblings, [Env()], facts):
                        _add(branch.outcomes["blocked"], name)
                else:
                    pattern, field, negated = cond
                    single = pattern.model_copy(update={"where": {field: pattern.where[field]}})
                    # under `not:` a fact passing the test is what blocks the rule
                    for base in [facts] if negated else matched_bases:
                        if evaluator.match(single, [Env()], base):
                            _add(branch.outcomes["passed"], name)
                            break
                    for _fact, fields in facts.of_type(pattern.fact):
                        results = evaluator.field_results(single, fields)
                        if results and not results[0].passed:
                            _add(branch.outcomes["failed"], name)
                            break
    return BranchCoverage(kb_version=kb.version, scenario_count=len(runs),
                          branches=[b for rb in rules for _k, _c, _s, b in rb.branches])


def render_branches(cov: BranchCoverage, style: Literal["text", "markdown"] = "text") -> str:
    md = style == "markdown"
    out = [("# Branch coverage\n\nGenerated by `pumpdx kb coverage --branches --markdown`; "
            "see docs/authoring-tools.md.\n") if md else "",
           f"Branch coverage of knowledge base {cov.kb_version} by {cov.scenario_count} "
           "scenarios:"]
    for label, (n, total) in cov.figures().items():
        pct = 100.0 * n / total if total else 100.0
        out.append(f"{'- ' if md else '  '}{label}: {n} of {total} ({pct:.1f} %)")
    missing = [b for b in cov.of_kind("alternative") if not b.covered()]
    out += ["", "any: alternatives no scenario exercises:" if missing else
            "Every any: alternative is exercised by a scenario."]
    out += [f"{'- ' if md else '  '}{b.where} {b.rule} {b.path}: {b.text}" for b in missing]
    blocked = [b for b in cov.of_kind("not") if not b.outcomes["blocked"]]
    if blocked:
        out += ["", "not: conditions no scenario shows blocking their rule:"]
        out += [f"{'- ' if md else '  '}{b.where} {b.rule} {b.path}: {b.text}" for b in blocked]
    return "\n".join(line for line in out if line is not None).lstrip("\n") + "\n"
