"""Why a conclusion was drawn, and why one was not (`pumpdx explain`).

why(): the firings that concluded a concept, each with the facts it matched and,
for every matched fact a rule derived, the firing that derived it (to `depth`).

why_not(): every rule that can conclude the concept and, for each, the first of its
conditions that no match survives on the facts the run ended with, with the fact
values it saw or "finding not entered"; for a condition that needs a derived fact
(a conclusion, a handover, an expected volume, ...), the rules that could have
derived it, explained the same way, to `depth` levels. Conditions are evaluated with
the compiled semantics (engine/conditions.py).
"""

from __future__ import annotations

from typing import Any, Literal

import yaml
from pydantic import BaseModel

from pumpdx.kb import calculations
from pumpdx.kb.loader import KnowledgeBase, LoadedRule
from pumpdx.kb.review_order import algorithm_order
from pumpdx.kb.rulelang import (
    AllCondition,
    AnyCondition,
    NotCondition,
    PatternCondition,
    is_variable,
)
from pumpdx.kb.schema import ComputeAction, ConcludeAction, DeclareAction, HandoverAction

from .assessment import Assessment
from .conditions import ConditionEvaluator, Env, FactBase
from .trace import TraceFact

DEFAULT_DEPTH = 3
MAX_FACTS_SHOWN = 8

Reason = Literal["not_entered", "not_derived", "no_match", "join", "blocked",
                 "no_alternative"]


class SeenFact(BaseModel):
    """A fact a condition looked at: the values of the fields it tests."""

    id: int
    type: str
    origin: Literal["input", "derived"]
    derived_by: int | None = None
    values: dict[str, Any]
    failed: list[str] = []


class ConditionFailure(BaseModel):
    path: str
    condition: str
    reason: Reason
    message: str
    facts: list[SeenFact] = []
    alternatives: list[ConditionFailure] = []
    needs: list[RuleExplanation] = []


class RuleExplanation(BaseModel):
    rule: str
    algorithm: str
    title: str
    where: str
    status: Literal["fired", "failed", "holds", "not_expanded"]
    firings: list[int] = []
    failure: ConditionFailure | None = None


class WhyNot(BaseModel):
    concept: str
    kind: str
    text: str
    concluded: bool
    derived_by: list[int]
    rules: list[RuleExplanation]


class MatchedFact(BaseModel):
    id: int
    type: str
    origin: Literal["input", "derived"]
    content: dict[str, Any]
    derived_by: FiringExplanation | None = None


class FiringExplanation(BaseModel):
    seq: int
    rule: str
    title: str
    algorithm: str
    citations: list[str]
    matched: list[MatchedFact]


class Why(BaseModel):
    concept: str
    kind: str
    text: str
    concluded: bool
    firings: list[FiringExplanation]


def condition_text(cond: Any) -> str:
    """A condition as the author wrote it, in one line of YAML flow style."""
    data = cond.model_dump(mode="json", by_alias=True, exclude_none=True)
    return str(yaml.safe_dump(data, default_flow_style=True, sort_keys=False,
                              width=10_000)).strip().removeprefix("{").removesuffix("}")


def _values(fact: TraceFact, fields: dict[str, Any], names: list[str]) -> dict[str, Any]:
    return {n: fields.get(n) for n in names}


class Explainer:
    """Explains conclusions of assessments made with one knowledge base."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.evaluator = ConditionEvaluator(kb)
        self.concluders: dict[str, list[LoadedRule]] = {}
        for lr in kb.rules:
            for action in lr.rule.then:
                if isinstance(action, ConcludeAction):
                    self.concluders.setdefault(action.conclude, []).append(lr)

    # -- which concepts an assessment could have reached -------------------------
    def entered_algorithms(self, assessment: Assessment) -> list[str]:
        """The algorithms a rule of which fired, in the review's order."""
        fired = {f.algorithm for f in assessment.trace.firings}
        return [a for a in algorithm_order(self.kb) if a in fired]

    def concepts_of(self, algorithm: str) -> list[str]:
        """The concepts the rules of one algorithm can conclude, in rule order."""
        out: list[str] = []
        for lr in self.kb.rules:
            if lr.algorithm != algorithm:
                continue
            for action in lr.rule.then:
                if isinstance(action, ConcludeAction) and action.conclude not in out:
                    out.append(action.conclude)
        return out

    def not_concluded(self, assessment: Assessment) -> dict[str, list[str]]:
        """For each entered algorithm, its concepts the assessment did not reach."""
        have = assessment.conclusion_ids()
        return {a: [c for c in self.concepts_of(a) if c not in have]
                for a in self.entered_algorithms(assessment)}

    # -- why --------------------------------------------------------------------
    def why(self, assessment: Assessment, concept: str, depth: int = DEFAULT_DEPTH) -> Why:
        c = self._concept(concept)
        trace = assessment.trace
        fact_ids = [f.id for f in trace.facts
                    if f.type == "conclusion" and f.content.get("id") == concept]
        seqs = [f.seq for f in trace.firings if any(i in f.declared for i in fact_ids)]
        return Why(concept=concept, kind=c.kind, text=c.text, concluded=bool(fact_ids),
                   firings=[self._firing(assessment, s, depth) for s in seqs])

    def _firing(self, assessment: Assessment, seq: int, depth: int) -> FiringExplanation:
        firing = next(f for f in assessment.trace.firings if f.seq == seq)
        lr = self.kb.rule(firing.rule)
        matched = []
        for fid in firing.matched:
            fact = assessment.trace.fact(fid)
            by = None
            if fact.derived_by is not None and depth > 1:
                by = self._firing(assessment, fact.derived_by, depth - 1)
            matched.append(MatchedFact(id=fact.id, type=fact.type, origin=fact.origin,
                                       content=fact.content, derived_by=by))
        return FiringExplanation(seq=seq, rule=lr.rule.id, title=lr.rule.title,
                                 algorithm=lr.algorithm,
                                 citations=[c.label() for c in lr.rule.cite], matched=matched)

    # -- why not ----------------------------------------------------------------
    def why_not(self, assessment: Assessment, concept: str,
                depth: int = DEFAULT_DEPTH) -> WhyNot:
        c = self._concept(concept)
        facts = FactBase(assessment.trace.facts, self.kb)
        fired = self._fired(assessment)
        derived_by = sorted(s for lr in self.concluders.get(concept, [])
                            for s in fired.get(lr.rule.id, []))
        rules = [self._rule(lr, facts, fired, depth, frozenset())
                 for lr in self.concluders.get(concept, [])]
        return WhyNot(concept=concept, kind=c.kind, text=c.text,
                      concluded=concept in assessment.conclusion_ids(),
                      derived_by=derived_by, rules=rules)

    def _concept(self, concept: str) -> Any:
        try:
            return self.kb.concepts[concept]
        except KeyError:
            raise KeyError(concept) from None

    @staticmethod
    def _fired(assessment: Assessment) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for f in assessment.trace.firings:
            out.setdefault(f.rule, []).append(f.seq)
        return out

    def _rule(self, lr: LoadedRule, facts: FactBase, fired: dict[str, list[int]],
              depth: int, visiting: frozenset[str]) -> RuleExplanation:
        base = RuleExplanation(rule=lr.rule.id, algorithm=lr.algorithm, title=lr.rule.title,
                               where=f"{lr.file}:{lr.line}", status="failed")
        if lr.rule.id in fired:
            return base.model_copy(update={"status": "fired", "firings": fired[lr.rule.id]})
        if depth <= 0 or lr.rule.id in visiting:
            return base.model_copy(update={"status": "not_expanded"})
        found = self.evaluator.first_failure(list(lr.rule.when), facts)
        if found is None:
            return base.model_copy(update={"status": "holds"})
        i, envs = found
        failure = self._failure(lr.rule.when[i], f"when[{i}]", envs, facts, fired, depth,
                                visiting | {lr.rule.id})
        return base.model_copy(update={"failure": failure})

    def _failure(self, cond: Any, path: str, envs: list[Env], facts: FactBase,
                 fired: dict[str, list[int]], depth: int,
                 visiting: frozenset[str]) -> ConditionFailure:
        text = condition_text(cond)
        if isinstance(cond, PatternCondition):
            return self._pattern_failure(cond, path, text, envs, facts, fired, depth,
                                         visiting)
        if isinstance(cond, NotCondition):
            blockers: list[int] = []
            for env in envs:
                for m in self.evaluator.match_all(cond.not_, [env], facts):
                    blockers.extend(i for i in m.matched if i not in env.matched
                                    and i not in blockers)
            seen = [self._seen(facts, i, cond) for i in blockers[:MAX_FACTS_SHOWN]]
            return ConditionFailure(
                path=path, condition=text, reason="blocked", facts=seen,
                message="blocked: " + "; ".join(_fact_phrase(s) for s in seen))
        if isinstance(cond, AnyCondition):
            alts = [self._failure(alt, f"{path}.any[{j}]", envs, facts, fired, depth,
                                  visiting) for j, alt in enumerate(cond.any)]
            return ConditionFailure(path=path, condition=text, reason="no_alternative",
                                    message=f"none of its {len(alts)} alternatives holds",
                                    alternatives=alts)
        if isinstance(cond, AllCondition):
            for j, sub in enumerate(cond.all):
                new = self.evaluator.match(sub, envs, facts)
                if not new:
                    return self._failure(sub, f"{path}.all[{j}]", envs, facts, fired,
                                         depth, visiting)
                envs = new
        raise TypeError(f"condition holds or is unknown: {cond!r}")

    def _seen(self, facts: FactBase, fact_id: int, cond: Any) -> SeenFact:
        fact = facts.by_id[fact_id]
        names = list(cond.where) if isinstance(cond, PatternCondition) else []
        if not names:
            for sub in getattr(cond, "not_", []):
                if isinstance(sub, PatternCondition) and sub.fact == fact.type:
                    names = list(sub.where)
        values = {n: fact.content.get(n) for n in names} if names else dict(fact.content)
        return SeenFact(id=fact.id, type=fact.type, origin=fact.origin,
                        derived_by=fact.derived_by, values=values)

    def _pattern_failure(self, cond: PatternCondition, path: str, text: str,
                         envs: list[Env], facts: FactBase, fired: dict[str, list[int]],
                         depth: int, visiting: frozenset[str]) -> ConditionFailure:
        spec = self.kb.fact_types.get(cond.fact)
        derived = spec is None or spec.origin == "derived"
        candidates = facts.of_type(cond.fact)
        seen: list[SeenFact] = []
        alone_ok = False
        for fact, fields in candidates:
            results = self.evaluator.field_results(cond, fields)
            if all(r.passed for r in results):
                alone_ok = True
            seen.append(SeenFact(id=fact.id, type=fact.type, origin=fact.origin,
                                 derived_by=fact.derived_by,
                                 values={r.name: r.value for r in results},
                                 failed=[r.name for r in results if not r.passed]))
        if alone_ok:
            joined = [s for s in seen if not s.failed]
            bound = sorted({f"${k} = {v!r}" for env in envs for k, v in env.bindings})
            return ConditionFailure(
                path=path, condition=text, reason="join", facts=joined[:MAX_FACTS_SHOWN],
                message=f"a {cond.fact} matches the tests but not the values bound by the "
                        f"earlier conditions ({', '.join(bound) or 'none'})")
        if derived:
            needs = [self._rule(lr, facts, fired, depth - 1, visiting)
                     for lr in self._producers(cond)]
            shown = [] if cond.fact in ("conclusion", "handover") else seen
            who = ", ".join(n.rule for n in needs) or "no rule"
            return ConditionFailure(
                path=path, condition=text, reason="not_derived", facts=shown[:MAX_FACTS_SHOWN],
                needs=needs,
                message=f"no such {cond.fact} was derived (it can come from: {who})")
        where = spec.case_path if spec is not None and spec.case_path else cond.fact
        if not candidates:
            return ConditionFailure(
                path=path, condition=text, reason="not_entered",
                message=f"finding not entered: the case has no {where.removesuffix('[]')}")
        failed = {name: [s.values.get(name) for s in seen if name in s.failed]
                  for name in cond.where}
        absent = [n for n, vals in failed.items() if vals and all(v is None for v in vals)]
        present_fail = [n for n, vals in failed.items() if any(v is not None for v in vals)]
        if absent and not present_fail:
            return ConditionFailure(
                path=path, condition=text, reason="not_entered", facts=seen[:MAX_FACTS_SHOWN],
                message="finding not entered: " + ", ".join(f"{where}.{n}".replace("[].", ".")
                                                             for n in absent))
        return ConditionFailure(
            path=path, condition=text, reason="no_match", facts=seen[:MAX_FACTS_SHOWN],
            message=f"no {cond.fact} passes: " + "; ".join(_fact_phrase(s) for s in
                                                           seen[:MAX_FACTS_SHOWN]))

    def _producers(self, cond: PatternCondition) -> list[LoadedRule]:
        """Rules with an action that can declare a fact matching the pattern."""
        out = []
        for lr in self.kb.rules:
            for action in lr.rule.then:
                fields = self._produced(action, cond.fact)
                if fields is None:
                    continue
                results = self.evaluator.field_results(cond, fields)
                if all(r.passed or r.name not in fields for r in results):
                    out.append(lr)
                    break
        return out

    def _produced(self, action: Any, fact_type: str) -> dict[str, Any] | None:
        """The known fields of a fact of `fact_type` the action declares, else None."""
        if isinstance(action, ConcludeAction) and fact_type == "conclusion":
            return {"id": action.conclude, "kind": self.kb.concepts[action.conclude].kind}
        if isinstance(action, HandoverAction) and fact_type == "handover":
            return {"algorithm": action.handover}
        if isinstance(action, DeclareAction) and action.declare.fact == fact_type:
            return {k: v for k, v in action.declare.with_.items() if not is_variable(v)}
        if isinstance(action, ComputeAction):
            calc = calculations.CALCULATIONS.get(action.compute)
            if calc is None or fact_type in calc.declares:
                return {}
        return None


def _fact_phrase(s: SeenFact) -> str:
    values = ", ".join(
        f"{k} {'not entered' if v is None else '= ' + repr(v)}"
        + (" (fails)" if k in s.failed else "")
        for k, v in s.values.items())
    origin = f", derived by firing #{s.derived_by}" if s.derived_by is not None else ""
    return f"#{s.id} {s.type}" + (f" ({values})" if values else "") + origin


ConditionFailure.model_rebuild()
MatchedFact.model_rebuild()


# -- text ------------------------------------------------------------------------
def format_why_not(w: WhyNot) -> str:
    head = (f"{w.concept} ({w.kind}) was concluded by firing "
            + ", ".join(f"#{s}" for s in w.derived_by)) if w.concluded else \
        f"{w.concept} ({w.kind}) was not concluded."
    lines = [head, f"  \"{' '.join(w.text.split())}\"",
             f"Rules that can conclude it: {len(w.rules)}"]
    for r in w.rules:
        lines.extend(_rule_lines(r, "  "))
    return "\n".join(lines) + "\n"


def _rule_lines(r: RuleExplanation, indent: str) -> list[str]:
    head = f"{indent}- rule {r.rule} [{r.algorithm}] ({r.where})"
    if r.status == "fired":
        return [head + ": fired (" + ", ".join(f"#{s}" for s in r.firings) + ")"]
    if r.status == "not_expanded":
        return [head + ": not fired (not expanded: depth limit or already shown above)"]
    if r.status == "holds" or r.failure is None:
        return [head + ": all conditions hold on the final facts, yet it did not fire"]
    return [head + ": not fired", *_failure_lines(r.failure, indent + "    ")]


def _failure_lines(f: ConditionFailure, indent: str) -> list[str]:
    lines = [f"{indent}{f.path} {f.condition}", f"{indent}  -> {f.message}"]
    for alt in f.alternatives:
        lines.extend(_failure_lines(alt, indent + "    "))
    for n in f.needs:
        lines.extend(_rule_lines(n, indent + "    "))
    return lines


def format_why(w: Why) -> str:
    if not w.concluded:
        return (f"{w.concept} ({w.kind}) was not concluded; "
                f"use --why-not {w.concept} to see why.\n")
    lines = [f"{w.concept} ({w.kind}) was concluded.",
             f"  \"{' '.join(w.text.split())}\""]
    for f in w.firings:
        lines.extend(_firing_lines(f, "  "))
    return "\n".join(lines) + "\n"


def _firing_lines(f: FiringExplanation, indent: str) -> list[str]:
    lines = [f"{indent}#{f.seq} rule {f.rule} [{f.algorithm}]: {f.title}",
             f"{indent}  cites: {'; '.join(f.citations)}"]
    for m in f.matched:
        content = ", ".join(f"{k}={v!r}" for k, v in m.content.items())
        lines.append(f"{indent}  matched #{m.id} {m.type} ({content})"
                     + ("" if m.origin == "input" else " derived"))
        if m.derived_by is not None:
            lines.extend(_firing_lines(m.derived_by, indent + "      "))
    return lines


# -- the API ---------------------------------------------------------------------
_EXPLAINERS: dict[tuple[int, str], Explainer] = {}


def explainer_for(kb: KnowledgeBase) -> Explainer:
    """The Explainer of a knowledge base (built once; it compiles the patterns)."""
    key = (id(kb), kb.version)
    if key not in _EXPLAINERS:
        if len(_EXPLAINERS) >= 4:  # a few knowledge bases at a time at most
            _EXPLAINERS.clear()
        _EXPLAINERS[key] = Explainer(kb)
    return _EXPLAINERS[key]


def _checked(assessment: Assessment, kb: KnowledgeBase | None) -> KnowledgeBase:
    if kb is None:
        from .assess import default_assessor

        kb = default_assessor().kb
    if assessment.kb_version != kb.version:
        raise ValueError(f"the assessment was made with knowledge base "
                         f"{assessment.kb_version}, not {kb.version}")
    return kb


def why(assessment: Assessment, concept: str, kb: KnowledgeBase | None = None,
        depth: int = DEFAULT_DEPTH) -> Why:
    """Why `concept` was concluded: the firings and the facts behind them.
    KeyError for a concept the knowledge base does not have."""
    return explainer_for(_checked(assessment, kb)).why(assessment, concept, depth)


def why_not(assessment: Assessment, concept: str, kb: KnowledgeBase | None = None,
            depth: int = DEFAULT_DEPTH) -> WhyNot:
    """Why `concept` was not concluded: every rule that can conclude it and the first
    condition of each that failed, recursively through derived facts to `depth`.
    KeyError for a concept the knowledge base does not have."""
    return explainer_for(_checked(assessment, kb)).why_not(assessment, concept, depth)
