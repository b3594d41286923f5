"""Semantic checks of a knowledge base that loads (`pumpdx kb lint`).

load_kb() already rejects everything that is malformed (unknown fact type, field,
value, concept, parameter, duplicate rule id, a citation to a section that
sources.yaml does not have). These checks find what is well-formed but cannot be
what the author meant:

    never_fires           a rule needs a fact value that no input, rule or calculation
                          can produce (directly, or only through rules that never fire)
    unused_concept        a catalog concept that no rule concludes
    unread_fact           a fact type no rule reads; a handover nobody picks up
    duplicate_conditions  two rules of one algorithm with the same salience and conditions
    unused_parameter      a parameter no rule uses (directly or through a calculation)
    calculation           a calculation reads a parameter it does not declare, or one
                          the KB does not have
    branch                a `branch` naming a figure or step the review does not have
    absent_finding        a test that reads a finding that can be missing (not entered)
                          without saying what a missing finding means: `ne` / `not_in`
                          (a missing value passes them) or a field test inside `not:`
                          (the `not` holds when the finding is missing); and a rule that
                          acts on a missing finding (`if_missing`) without notes saying why
    threshold             two rules of one algorithm testing one field against one
                          boundary from opposite sides, with a gap or an overlap at it
                          (kb/thresholds.py)

Each check is a small function returning KBIssues with file:line and rule id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from . import calculations
from .calculations import CalculationSpec
from .facts import registry
from .issues import KBIssue, display_path
from .joins import JOIN_LIMIT, instance_bounds, worst_join
from .loader import KnowledgeBase, LoadedRule
from .rulelang import (
    FieldTest,
    PatternCondition,
    children,
    declarable_fact_types,
    only_missing_passes,
    params_used,
    patterns,
    says_what_missing_means,
    uses_negative_test,
    value_passes,
    variable_name,
)
from .schema import (
    ComputeAction,
    ConcludeAction,
    DeclareAction,
    HandoverAction,
)
from .thresholds import check_thresholds
from .yamlfile import YamlDocument, read_yaml

Loc = tuple[str | int, ...]


# -- locations -----------------------------------------------------------------
class LintContext:
    """The KB plus what the checks share: parsed YAML (for lines), calculation facts."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._docs: dict[str, YamlDocument | None] = {}

    def path_of(self, shown: str) -> Path:
        path = Path(shown)
        return path if path.is_absolute() else self.kb.root.parent / path

    def doc(self, shown: str) -> YamlDocument | None:
        if shown not in self._docs:
            try:
                self._docs[shown] = read_yaml(self.path_of(shown))
            except (OSError, ValueError):
                self._docs[shown] = None
        return self._docs[shown]

    def rule_line(self, lr: LoadedRule, loc: Loc = ()) -> int:
        doc = self.doc(lr.file)
        if doc is None or not loc:
            return lr.line
        for i, raw in enumerate(doc.data.get("rules", []) if isinstance(doc.data, dict) else []):
            if isinstance(raw, dict) and raw.get("id") == lr.rule.id:
                return doc.line_of(("rules", i, *loc))
        return lr.line

    def rule_issue(self, lr: LoadedRule, loc: Loc, message: str, check: str) -> KBIssue:
        return KBIssue(lr.file, self.rule_line(lr, loc), lr.rule.id, message, check)

    @property
    def calc_info(self) -> dict[str, CalculationSpec]:
        """What each calculation reads and declares (declared with it)."""
        return dict(sorted(calculations.CALCULATIONS.items()))


def key_line(doc: YamlDocument, loc: Loc) -> int:
    """Line of the key at the end of `loc` (line_of gives the line of its value)."""
    parent = doc.node
    for key in loc[:-1]:
        if isinstance(parent, yaml.MappingNode):
            parent = next((v for k, v in parent.value if k.value == key), parent)
        elif isinstance(parent, yaml.SequenceNode) and isinstance(key, int) \
                and 0 <= key < len(parent.value):
            parent = parent.value[key]
    if isinstance(parent, yaml.MappingNode):
        for k, _v in parent.value:
            if k.value == loc[-1]:
                return int(k.start_mark.line) + 1
    return doc.line_of(loc)


# -- walking rules -------------------------------------------------------------
def iter_patterns(conds: list[Any], loc: Loc) -> Iterator[tuple[PatternCondition, Loc]]:
    """Every fact pattern inside conditions (also inside not / any / all)."""
    for site in patterns(conds, loc):
        yield site.pattern, site.loc


def _actions(lr: LoadedRule) -> Iterator[tuple[int, Any]]:
    yield from enumerate(lr.rule.then)


def _flow(value: Any) -> str:
    return str(yaml.safe_dump(value, default_flow_style=True, sort_keys=True,
                              width=10_000)).strip()


# -- which fact values can exist (for never_fires) -------------------------------
class _Present:
    """Any value except a missing one (a `$variable` declared by a rule)."""


ANY: None = None
PRESENT = _Present()
Values = frozenset[Any] | _Present | None
Producer = tuple[str, dict[str, Values]]  # (who produces it, field -> possible values)


def _input_producers(kb: KnowledgeBase) -> dict[str, list[Producer]]:
    out: dict[str, list[Producer]] = {}
    for name, ft in kb.fact_types.items():
        if ft.origin != "input":
            continue
        if name == "drug":
            out[name] = [("case", {"agent": frozenset([agent]),
                                   "agent_class": frozenset([info.agent_class]),
                                   "lipophilic": frozenset([info.lipophilic])})
                         for agent, info in sorted(kb.agents.items())]
        elif name == "sign":
            pumps: list[frozenset[str] | None] = [
                None, *(frozenset([c]) for c in sorted({a.agent_class
                                                       for a in kb.agents.values()}))]
            out[name] = [("case", {"name": frozenset([sign]),
                                   **{k: frozenset(info.fact_fields(p)[k] for p in pumps)
                                      for k in info.fact_fields(None)}})
                         for sign, info in sorted(kb.signs.items())]
        else:
            out[name] = [("case", {})]
    return out


def _rule_producers(kb: KnowledgeBase, lr: LoadedRule,
                    calc_info: Mapping[str, CalculationSpec]) -> Iterator[tuple[str, Producer]]:
    who = f"rule {lr.rule.id}"
    for _i, action in _actions(lr):
        if isinstance(action, ConcludeAction):
            concept = kb.concepts.get(action.conclude)
            kind = concept.kind if concept else None
            yield "conclusion", (who, {"id": frozenset([action.conclude]),
                                       "kind": frozenset([kind])})
        elif isinstance(action, HandoverAction):
            yield "handover", (who, {"algorithm": frozenset([action.handover])})
        elif isinstance(action, DeclareAction):
            ft = kb.fact_types.get(action.declare.fact)
            fields: dict[str, Values] = {n: frozenset([None]) for n in (ft.fields if ft else ())}
            for fname, value in action.declare.with_.items():
                variable = variable_name(value) is not None
                fields[fname] = PRESENT if variable else frozenset([value])
            yield action.declare.fact, (who, fields)
        elif isinstance(action, ComputeAction):
            spec = calc_info.get(action.compute)
            produced = spec.declares if spec is not None else declarable_fact_types(
                kb.fact_types)
            for fact in sorted(produced):
                yield fact, (f"{who} (compute {action.compute})", {})


def _producers(kb: KnowledgeBase, rules: list[LoadedRule],
               calc_info: Mapping[str, CalculationSpec]) -> dict[str, list[Producer]]:
    out = _input_producers(kb)
    for lr in rules:
        for fact, producer in _rule_producers(kb, lr, calc_info):
            out.setdefault(fact, []).append(producer)
    return out


def value_can_pass(spec: Any, values: Values, params: Mapping[str, Any]) -> bool:
    """Can some possible value of a field pass the field's `where:` value in a pattern?
    (The rule language's semantics, pumpdx.kb.rulelang, leniently on operands.)"""
    if values is ANY:
        return True
    if isinstance(values, _Present):
        return not (isinstance(spec, FieldTest) and only_missing_passes(spec))
    return any(value_passes(spec, v, params, lenient=True) for v in values)


def pattern_sources(cond: PatternCondition, producers: Mapping[str, list[Producer]],
                    params: Mapping[str, Any]) -> list[str]:
    """Who can produce a fact matching the pattern (joins between patterns ignored)."""
    return [who for who, fields in producers.get(cond.fact, [])
            if all(value_can_pass(spec, fields.get(name, ANY), params)
                   for name, spec in cond.where.items())]


def condition_can_hold(cond: Any, producers: Mapping[str, list[Producer]],
                       params: Mapping[str, Any]) -> bool:
    if isinstance(cond, PatternCondition):
        return bool(pattern_sources(cond, producers, params))
    group = children(cond)
    if group is None or group[0] == "not":
        return True  # a `not` can always hold
    held = (condition_can_hold(c, producers, params) for c in group[1])
    return any(held) if group[0] == "any" else all(held)


def rules_that_can_fire(ctx: LintContext) -> set[str]:
    """Least fixed point: rules whose conditions can hold given what the rules that can
    fire produce. A rule that needs its own output (or a cycle's) never fires."""
    kb = ctx.kb
    params = kb.param_values()
    can: set[str] = set()
    while True:
        producers = _producers(kb, [lr for lr in kb.rules if lr.rule.id in can], ctx.calc_info)
        now = {lr.rule.id for lr in kb.rules
               if all(condition_can_hold(c, producers, params) for c in lr.rule.when)}
        if now == can:
            return can
        can = now


# -- the checks ----------------------------------------------------------------
def check_never_fires(ctx: LintContext) -> list[KBIssue]:
    kb = ctx.kb
    params = kb.param_values()
    can = rules_that_can_fire(ctx)
    live = _producers(kb, [lr for lr in kb.rules if lr.rule.id in can], ctx.calc_info)
    every = _producers(kb, kb.rules, ctx.calc_info)
    issues = []
    for lr in kb.rules:
        if lr.rule.id in can:
            continue
        for i, cond in enumerate(lr.rule.when):
            if condition_can_hold(cond, live, params):
                continue
            issues.append(ctx.rule_issue(lr, ("when", i),
                                         "can never fire: " + _why_not(i, cond, every, params),
                                         "never_fires"))
            break
    return issues


def _why_not(i: int, cond: Any, every: Mapping[str, list[Producer]],
             params: Mapping[str, Any]) -> str:
    if not isinstance(cond, PatternCondition):
        group = children(cond)
        return f"condition {i + 1} ({group[0] if group else 'all'}) " \
               "needs facts that no input, rule or calculation can produce"
    what = f"a '{cond.fact}' fact" + (
        f" with {_flow(cond.model_dump(mode='json', by_alias=True, exclude_none=True)['where'])}"
        if cond.where else "")
    dead = sorted(set(pattern_sources(cond, every, params)))
    if dead:
        return (f"condition {i + 1} needs {what}, and only rules that can never fire "
                f"produce one ({', '.join(d.removeprefix('rule ') for d in dead)})")
    return f"condition {i + 1} needs {what}, which no input, rule or calculation produces"


def check_unused_concepts(ctx: LintContext) -> list[KBIssue]:
    concluded = {a.conclude for lr in ctx.kb.rules for _i, a in _actions(lr)
                 if isinstance(a, ConcludeAction)}
    return [KBIssue(*ctx.kb.concept_locations[cid], cid,
                    "in the concept catalog, but no rule concludes it",
                    "unused_concept")
            for cid in sorted(ctx.kb.concepts) if cid not in concluded]


def _registry_location(ctx: LintContext, fact: str) -> tuple[str, int]:
    """Where the fact vocabulary is declared (kb/facts/registry.py, build_fact_types)."""
    code = registry.build_fact_types.__code__
    return display_path(Path(code.co_filename), ctx.kb.root), code.co_firstlineno


def check_unread_facts(ctx: LintContext) -> list[KBIssue]:
    kb = ctx.kb
    read: dict[str, list[PatternCondition]] = {}
    for lr in kb.rules:
        for cond, _loc in iter_patterns(list(lr.rule.when), ("when",)):
            read.setdefault(cond.fact, []).append(cond)
    producing: dict[str, tuple[LoadedRule, Loc]] = {}
    for lr in kb.rules:
        for fact, _p in _rule_producers(kb, lr, ctx.calc_info):
            producing.setdefault(fact, (lr, ()))
    issues = []
    for fact in kb.fact_types:
        if fact == "conclusion" or fact in read:
            continue  # conclusions are the system's output
        message = f"no rule reads '{fact}' facts"
        if fact in producing:
            lr, loc = producing[fact]
            issues.append(ctx.rule_issue(lr, loc, message + " (this rule produces them)",
                                         "unread_fact"))
        else:
            issues.append(KBIssue(*_registry_location(ctx, fact), "", message, "unread_fact"))
    params = kb.param_values()
    for lr in kb.rules:
        for i, action in _actions(lr):
            if not isinstance(action, HandoverAction) or "handover" not in read:
                continue
            target = action.handover
            if not any("algorithm" not in c.where
                       or value_can_pass(c.where["algorithm"], frozenset([target]), params)
                       for c in read["handover"]):
                issues.append(ctx.rule_issue(
                    lr, ("then", i), f"hands over to '{target}', but no rule reads "
                    f"`fact: handover, where: {{algorithm: {target}}}`", "unread_fact"))
    return issues


def _canonical(value: Any) -> Any:
    """Order-free form of conditions: the order of conditions, alternatives and `in`
    members does not change what a rule matches."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return sorted((_canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


def check_duplicate_conditions(ctx: LintContext) -> list[KBIssue]:
    seen: dict[tuple[str, int, str], LoadedRule] = {}
    issues = []
    for lr in ctx.kb.rules:
        dumped = [c.model_dump(mode="json", by_alias=True, exclude_none=True)
                  for c in lr.rule.when]
        key = (lr.algorithm, lr.rule.salience,
               json.dumps(_canonical(dumped), sort_keys=True))
        first = seen.get(key)
        if first is None:
            seen[key] = lr
            continue
        issues.append(ctx.rule_issue(
            lr, (), f"same conditions and salience as rule '{first.rule.id}' "
            f"({first.file}:{first.line}); merge their actions or make the conditions differ",
            "duplicate_conditions"))
    return issues


def _computed(kb: KnowledgeBase) -> dict[str, list[tuple[LoadedRule, int]]]:
    out: dict[str, list[tuple[LoadedRule, int]]] = {}
    for lr in kb.rules:
        for i, action in _actions(lr):
            if isinstance(action, ComputeAction):
                out.setdefault(action.compute, []).append((lr, i))
    return out


def check_unused_parameters(ctx: LintContext) -> list[KBIssue]:
    kb = ctx.kb
    used: set[str] = set()
    for lr in kb.rules:
        for cond, _loc in iter_patterns(list(lr.rule.when), ("when",)):
            for spec in cond.where.values():
                if isinstance(spec, FieldTest):
                    used.update(params_used(spec))
    for name in _computed(kb):
        calc = calculations.CALCULATIONS.get(name)
        used.update(calc.params if calc is not None else ())
    shown = display_path(kb.root / "parameters.yaml", kb.root)
    doc = ctx.doc(shown)
    return [KBIssue(shown, key_line(doc, ("parameters", pid)) if doc else 1, pid,
                    "no rule uses this parameter (directly or through a calculation it "
                    "computes)", "unused_parameter")
            for pid in sorted(kb.parameters) if pid not in used]


def check_calculations(ctx: LintContext) -> list[KBIssue]:
    """A rule computes a calculation that needs parameters the KB does not have.

    (What a calculation reads is declared with it, and the engine holds it to that: it
    receives only the parameters it declares; see kb/calculations.py.)"""
    issues = []
    for name, uses in _computed(ctx.kb).items():
        calc = calculations.CALCULATIONS.get(name)
        missing = [p for p in (calc.params if calc is not None else ())
                   if p not in ctx.kb.parameters]
        for lr, i in uses:
            if missing:
                issues.append(ctx.rule_issue(
                    lr, ("then", i, "compute"), f"calculation '{name}' needs parameter(s) "
                    f"{', '.join(missing)}, which parameters.yaml does not have", "calculation"))
    return issues


_FIGURE = re.compile(r"^\s*Fig(?:ure|\.)?\s*([0-9A-Za-z.]+?)\s*:")
_STEP = re.compile(r"^\s*Step\s+([0-9A-Za-z]+)\s*:")


def branch_problem(branch: str, kb: KnowledgeBase) -> str | None:
    """Why a `branch` label names a figure or step the review does not have (or None).

    Labels are 'Fig. N: branch' or 'Step N: branch' (steps are the "Step N:" sections of
    the review); other labels are not checked.
    """
    review = kb.sources.get("review")
    if review is None:
        return None
    fig = _FIGURE.match(branch)
    if fig and fig.group(1) not in review.figures:
        return (f"branch names figure '{fig.group(1)}', which the review does not have; "
                f"it has {', '.join(review.figures)}")
    step = _STEP.match(branch)
    if step:
        steps = step_sections(kb)
        if step.group(1) not in steps:
            return (f"branch names step '{step.group(1)}', which the review does not have; "
                    f"it has {', '.join(steps)}")
    return None


def step_sections(kb: KnowledgeBase) -> dict[str, str]:
    """Step label -> review section ("3" -> "7.3"), from the section titles."""
    review = kb.sources.get("review")
    out: dict[str, str] = {}
    for section, title in (review.sections.items() if review else ()):
        m = _STEP.match(title)
        if m:
            out.setdefault(m.group(1), section)
    return out


def check_branches(ctx: LintContext) -> list[KBIssue]:
    issues = []
    for lr in ctx.kb.rules:
        if lr.rule.branch:
            problem = branch_problem(lr.rule.branch, ctx.kb)
            if problem:
                issues.append(ctx.rule_issue(lr, ("branch",), problem, "branch"))
    return issues


def iter_polar_patterns(conds: list[Any], loc: Loc, negated: bool = False
                        ) -> Iterator[tuple[PatternCondition, Loc, bool]]:
    """Every fact pattern with its location and whether it sits under an odd number of
    `not:` (a negated pattern: the rule needs it NOT to match)."""
    for site in patterns(conds, loc):
        yield site.pattern, site.loc, site.negated != negated


def absent_finding_problem(spec: Any, negated: bool) -> str | None:
    """Why a test on a field that can be missing is ambiguous about a missing finding."""
    if variable_name(spec) is not None:
        return None  # a variable binds a present value only
    if isinstance(spec, FieldTest):
        if says_what_missing_means(spec):
            return None
        if not negated and uses_negative_test(spec):
            return ("a missing (not entered) value passes `ne` / `not_in`, so the rule "
                    "reads an unknown finding as a negative one; add `if_missing: fail` "
                    "(the finding must be entered) or `if_missing: pass` (absence is "
                    "deliberately enough: say why in the rule's notes)")
        if not negated:
            return None
    if not negated:
        return None
    return ("inside `not:` this test makes the rule fire when the finding was not entered "
            "(unknown read as \"no\"); write the test as {eq: ..., if_missing: pass} (an "
            "unknown finding also blocks the rule) or {eq: ..., if_missing: fail} (absence "
            "is deliberately read as \"no\": say why in the rule's notes)")


def _acts_on_absence(spec: Any, negated: bool) -> bool:
    if not isinstance(spec, FieldTest) or spec.if_missing is None:
        return False
    return (spec.if_missing == "pass") != negated


def check_absent_findings(ctx: LintContext) -> list[KBIssue]:
    issues = []
    for lr in ctx.kb.rules:
        for cond, loc, negated in iter_polar_patterns(list(lr.rule.when), ("when",)):
            ft = ctx.kb.fact_types.get(cond.fact)
            for name, spec in cond.where.items():
                field = ft.fields.get(name) if ft is not None else None
                if field is None or not field.optional:
                    continue
                where = (*loc, "where", name)
                problem = absent_finding_problem(spec, negated)
                if problem is not None:
                    issues.append(ctx.rule_issue(
                        lr, where, f"{cond.fact}.{name} can be missing: {problem}",
                        "absent_finding"))
                elif _acts_on_absence(spec, negated) and not (lr.rule.notes or "").strip():
                    issues.append(ctx.rule_issue(
                        lr, where, f"the rule acts on a missing {cond.fact}.{name} "
                        "(if_missing); its notes must say why that is safe", "absent_finding"))
    return issues


def check_unbounded_joins(ctx: LintContext) -> list[KBIssue]:
    """Rules whose patterns can make the engine try too many fact combinations."""
    bounds = instance_bounds(ctx.kb)
    issues = []
    for lr in ctx.kb.rules:
        worst = worst_join(list(lr.rule.when), bounds)
        if worst > JOIN_LIMIT:
            issues.append(ctx.rule_issue(lr, ("when",), (
                f"unbounded join: the patterns can make the engine try {worst:,} combinations "
                f"of one case's facts (limit {JOIN_LIMIT:,}); pin a field of the repeated patterns "
                f"to a value (e.g. name: sedation) or join them on a shared variable"),
                "unbounded_join"))
    return issues


CHECKS: dict[str, Callable[[LintContext], list[KBIssue]]] = {
    "never_fires": check_never_fires,
    "unused_concept": check_unused_concepts,
    "unread_fact": check_unread_facts,
    "duplicate_conditions": check_duplicate_conditions,
    "unused_parameter": check_unused_parameters,
    "calculation": check_calculations,
    "branch": check_branches,
    "absent_finding": check_absent_findings,
    "unbounded_join": check_unbounded_joins,
    "threshold": check_thresholds,
}


def lint_kb(kb: KnowledgeBase, checks: Mapping[str, Callable[[LintContext], list[KBIssue]]]
            = CHECKS) -> list[KBIssue]:
    """Every semantic issue of a loaded KB, sorted by file and line."""
    ctx = LintContext(kb)
    issues: list[KBIssue] = []
    for check in checks.values():
        issues.extend(check(ctx))
    return sorted(set(issues))
