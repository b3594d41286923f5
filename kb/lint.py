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

import ast
import inspect
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from . import calculations
from .facts import registry
from .fieldtest import (
    COMPARISONS,
    field_predicate,
    says_what_missing_means,
    uses_negative_test,
)
from .issues import KBIssue, display_path
from .joins import JOIN_LIMIT, instance_bounds, worst_join
from .loader import KnowledgeBase, LoadedRule
from .schema import (
    AllCondition,
    AnyCondition,
    ComputeAction,
    ConcludeAction,
    DeclareAction,
    FieldTest,
    HandoverAction,
    NotCondition,
    ParamRef,
    PatternCondition,
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

    @cached_property
    def calc_info(self) -> dict[str, CalculationInfo]:
        return {name: calculation_info(name) for name in sorted(calculations.CALCULATIONS)}


# -- what calculations read and produce (from their source) ---------------------
@dataclass(frozen=True)
class CalculationInfo:
    """What a calculation's source shows: parameters read, fact types produced.

    None means "cannot tell" (a computed key or fact name); checks then assume the worst
    case that gives no false warning.
    """

    name: str
    file: str
    line: int
    reads: frozenset[str] | None
    produces: frozenset[str] | None


def _module_functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}


def calculation_info(name: str) -> CalculationInfo:
    func = calculations.CALCULATIONS[name]
    module = inspect.getmodule(func)
    try:
        file = inspect.getsourcefile(func) or "?"
        line = inspect.getsourcelines(func)[1]
        tree = ast.parse(inspect.getsource(module)) if module is not None else None
    except (OSError, TypeError):
        return CalculationInfo(name, "?", 1, None, None)
    functions = _module_functions(tree) if tree is not None else {}
    reads: set[str] | None = set()
    produces: set[str] | None = set()
    seen: set[str] = set()
    todo = [func.__name__]
    while todo:
        fname = todo.pop()
        if fname in seen or fname not in functions:
            continue
        seen.add(fname)
        for node in ast.walk(functions[fname]):
            if isinstance(node, ast.Subscript) and _is_name(node.value, "params"):
                key = node.slice
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    if reads is not None:
                        reads.add(key.value)
                else:
                    reads = None
            elif isinstance(node, ast.Call):
                callee = node.func
                if (isinstance(callee, ast.Attribute) and _is_name(callee.value, "params")
                        and callee.attr == "get"):
                    first = node.args[0] if node.args else None
                    if isinstance(first, ast.Constant) and isinstance(first.value, str):
                        if reads is not None:
                            reads.add(first.value)
                    else:
                        reads = None
                elif _is_name(callee, "Derived"):
                    first = node.args[0] if node.args else None
                    if isinstance(first, ast.Constant) and isinstance(first.value, str):
                        if produces is not None:
                            produces.add(first.value)
                    else:
                        produces = None
                elif isinstance(callee, ast.Name) and callee.id in functions:
                    todo.append(callee.id)
    return CalculationInfo(name, file, line,
                           frozenset(reads) if reads is not None else None,
                           frozenset(produces) if produces is not None else None)


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


def _is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


# -- walking rules -------------------------------------------------------------
def iter_patterns(conds: list[Any], loc: Loc) -> Iterator[tuple[PatternCondition, Loc]]:
    """Every fact pattern inside conditions (also inside not / any / all)."""
    for i, cond in enumerate(conds):
        here = (*loc, i)
        if isinstance(cond, PatternCondition):
            yield cond, here
        elif isinstance(cond, NotCondition):
            yield from iter_patterns(cond.not_, (*here, "not"))
        elif isinstance(cond, AnyCondition):
            yield from iter_patterns(cond.any, (*here, "any"))
        elif isinstance(cond, AllCondition):
            yield from iter_patterns(cond.all, (*here, "all"))


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
                    calc_info: Mapping[str, CalculationInfo]) -> Iterator[tuple[str, Producer]]:
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
                variable = isinstance(value, str) and value.startswith("$")
                fields[fname] = PRESENT if variable else frozenset([value])
            yield action.declare.fact, (who, fields)
        elif isinstance(action, ComputeAction):
            info = calc_info.get(action.compute)
            produced = info.produces if info is not None else None
            if produced is None:
                produced = frozenset(n for n, t in kb.fact_types.items()
                                     if t.origin == "derived"
                                     and n not in ("conclusion", "handover"))
            for fact in sorted(produced):
                yield fact, (f"{who} (compute {action.compute})", {})


def _producers(kb: KnowledgeBase, rules: list[LoadedRule],
               calc_info: Mapping[str, CalculationInfo]) -> dict[str, list[Producer]]:
    out = _input_producers(kb)
    for lr in rules:
        for fact, producer in _rule_producers(kb, lr, calc_info):
            out.setdefault(fact, []).append(producer)
    return out


def _test_passes(test: FieldTest, value: Any, params: Mapping[str, Any]) -> bool:
    """The compiler's field-test semantics (pumpdx.kb.fieldtest), on one possible value."""
    return field_predicate(test, params, lenient=True)(value)


def value_can_pass(spec: Any, values: Values, params: Mapping[str, Any]) -> bool:
    """Can some possible value of a field pass the field's test in a pattern?"""
    if values is ANY:
        return True
    variable = isinstance(spec, str) and spec.startswith("$")
    if isinstance(values, _Present):
        return not (isinstance(spec, FieldTest) and spec.present is False)
    for value in values:
        if variable:
            ok = value is not None
        elif isinstance(spec, FieldTest):
            ok = _test_passes(spec, value, params)
        else:
            ok = value == spec and isinstance(value, bool) == isinstance(spec, bool)
        if ok:
            return True
    return False


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
    if isinstance(cond, AnyCondition):
        return any(condition_can_hold(c, producers, params) for c in cond.any)
    if isinstance(cond, AllCondition):
        return all(condition_can_hold(c, producers, params) for c in cond.all)
    return True  # a `not` can always hold


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
        return f"condition {i + 1} ({'any' if isinstance(cond, AnyCondition) else 'all'}) " \
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
    path = Path(inspect.getsourcefile(registry) or "registry.py")
    line = 1
    try:
        for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if f'FactType("{fact}"' in text:
                line = n
                break
    except OSError:
        pass
    return display_path(path, ctx.kb.root), line


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
                    used.update(v.param for op in COMPARISONS
                                if isinstance(v := getattr(spec, op), ParamRef))
    for name in _computed(kb):
        used.update(calculations.CALCULATION_PARAMS.get(name, ()))
    shown = display_path(kb.root / "parameters.yaml", kb.root)
    doc = ctx.doc(shown)
    return [KBIssue(shown, key_line(doc, ("parameters", pid)) if doc else 1, pid,
                    "no rule uses this parameter (directly or through a calculation it "
                    "computes)", "unused_parameter")
            for pid in sorted(kb.parameters) if pid not in used]


def check_calculations(ctx: LintContext) -> list[KBIssue]:
    issues = []
    for name, info in ctx.calc_info.items():
        declared = set(calculations.CALCULATION_PARAMS.get(name, ()))
        undeclared = sorted((info.reads or frozenset()) - declared)
        if undeclared:
            issues.append(KBIssue(
                display_path(Path(info.file), ctx.kb.root), info.line, "",
                f"calculation '{name}' reads parameter(s) {', '.join(undeclared)} but does not "
                f"declare them: write @calculation(params=({', '.join(map(repr, undeclared))},))",
                "calculation"))
    for name, uses in _computed(ctx.kb).items():
        missing = [p for p in calculations.CALCULATION_PARAMS.get(name, ())
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
    for i, cond in enumerate(conds):
        here = (*loc, i)
        if isinstance(cond, PatternCondition):
            yield cond, here, negated
        elif isinstance(cond, NotCondition):
            yield from iter_polar_patterns(cond.not_, (*here, "not"), not negated)
        elif isinstance(cond, AnyCondition):
            yield from iter_polar_patterns(cond.any, (*here, "any"), negated)
        elif isinstance(cond, AllCondition):
            yield from iter_polar_patterns(cond.all, (*here, "all"), negated)


def absent_finding_problem(spec: Any, negated: bool) -> str | None:
    """Why a test on a field that can be missing is ambiguous about a missing finding."""
    if isinstance(spec, str) and spec.startswith("$"):
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
