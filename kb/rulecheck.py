"""Semantic checks of rules against the fact vocabulary, the concept catalog,
the parameters and the calculations. Every problem names file, line and rule id."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from . import calculations
from .facts.registry import FactType, FieldSpec
from .issues import KBIssue
from .rulelang import (
    AllCondition,
    AnyCondition,
    ConditionVisitor,
    FieldTest,
    NotCondition,
    ParamRef,
    PatternCondition,
    declarable_fact_types,
    is_variable,
    variable_name,
    where_kind,
)
from .schema import (
    Citation,
    ComputeAction,
    Concept,
    ConcludeAction,
    DeclareAction,
    HandoverAction,
    Parameter,
    SourceInfo,
)
from .suggest import did_you_mean
from .yamlfile import YamlDocument

if TYPE_CHECKING:
    from .loader import LoadedRule

Loc = tuple[str | int, ...]


def _allowed(names: Any) -> str:
    return ", ".join(sorted(names))


class _RuleChecker(ConditionVisitor[set[str]]):
    """Checks one rule; visiting a condition returns the variables bound after it."""

    def __init__(self, lr: LoadedRule, doc: YamlDocument | None,
                 fact_types: dict[str, FactType], concepts: dict[str, Concept],
                 parameters: dict[str, Parameter], algorithms: tuple[str, ...]) -> None:
        self.lr = lr
        self.doc = doc
        self.fact_types = fact_types
        self.concepts = concepts
        self.parameters = parameters
        self.algorithms = algorithms
        self.issues: list[KBIssue] = []
        self.base: Loc = ()
        if doc is not None:
            for i, raw in enumerate(doc.data.get("rules", [])):
                if isinstance(raw, dict) and raw.get("id") == lr.rule.id:
                    self.base = ("rules", i)
                    break

    def add(self, loc: Loc, message: str, check: str = "schema") -> None:
        line = self.doc.line_of(self.base + loc) if self.doc and self.base else self.lr.line
        self.issues.append(KBIssue(self.lr.file, line, self.lr.rule.id, message, check))

    # -- conditions -----------------------------------------------------
    def conditions(self, conds: list[Any], loc: Loc, bound: set[str]) -> set[str]:
        for i, cond in enumerate(conds):
            bound = self.visit(cond, (*loc, i), bound)
        return bound

    def not_(self, cond: NotCondition, *args: Any) -> set[str]:
        loc, bound = args
        self.conditions(cond.not_, (*loc, "not"), set(bound))
        return set(bound)

    def any_(self, cond: AnyCondition, *args: Any) -> set[str]:
        loc, bound = args
        alternatives = [self.visit(alt, (*loc, "any", j), set(bound))
                        for j, alt in enumerate(cond.any)]
        return set.intersection(*alternatives) if alternatives else set(bound)

    def all_(self, cond: AllCondition, *args: Any) -> set[str]:
        loc, bound = args
        return self.conditions(cond.all, (*loc, "all"), set(bound))

    def pattern(self, cond: PatternCondition, *args: Any) -> set[str]:
        loc, bound = args
        ft = self.fact_types.get(cond.fact)
        if ft is None:
            self.add((*loc, "fact"), f"unknown fact type '{cond.fact}'"
                     f"{did_you_mean(cond.fact, self.fact_types)}; allowed: "
                     + _allowed(self.fact_types))
            return set(bound)
        new: set[str] = set(bound)
        for name, value in cond.where.items():
            floc = (*loc, "where", name)
            spec = ft.fields.get(name)
            if spec is None:
                self.add(floc, f"unknown field '{name}' of '{cond.fact}'"
                         f"{did_you_mean(name, ft.fields)}; allowed: " + _allowed(ft.fields))
                continue
            kind = where_kind(value)
            if kind == "variable":
                new.add(str(variable_name(value)))
            elif isinstance(value, FieldTest):
                self.field_test(cond.fact, name, spec, value, floc)
            else:
                self.literal(cond.fact, name, spec, value, floc)
        return new

    def literal(self, fact: str, name: str, spec: FieldSpec, value: Any, loc: Loc) -> None:
        ok = {
            "choice": isinstance(value, str) and value in spec.choices,
            "boolean": isinstance(value, bool),
            "number": isinstance(value, int | float) and not isinstance(value, bool),
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "text": isinstance(value, str),
        }[spec.kind]
        if not ok:
            self.add(loc, f"{fact}.{name} = {value!r} is not allowed; {fact}.{name} is "
                     + spec.describe())

    def operand(self, fact: str, name: str, spec: FieldSpec, value: Any, loc: Loc,
                numeric: bool) -> None:
        if isinstance(value, ParamRef):
            p = self.parameters.get(value.param)
            if p is None:
                self.add(loc, f"unknown parameter '{value.param}'"
                         f"{did_you_mean(value.param, self.parameters)}; allowed: "
                         + _allowed(self.parameters))
            elif not isinstance(p.value, int | float):
                self.add(loc, f"parameter '{value.param}' is a table, not a number")
            return
        if is_variable(value):
            self.add(loc, "tests compare with a literal or {param: ...}; variables only join "
                          "by equality (write the field as `$name`)")
            return
        if numeric and spec.kind not in ("number", "integer"):
            self.add(loc, f"{fact}.{name} is {spec.describe()}; lt/le/gt/ge need a number field")
            return
        self.literal(fact, name, spec, value, loc)

    def field_test(self, fact: str, name: str, spec: FieldSpec, test: FieldTest,
                   loc: Loc) -> None:
        for op, operand in test.operators():
            if op.operand == "value":
                self.operand(fact, name, spec, operand, (*loc, op.key), op.numeric)
            elif op.operand == "values":
                for v in operand:
                    self.literal(fact, name, spec, v, (*loc, op.key))

    # -- actions --------------------------------------------------------
    def actions(self, bound: set[str]) -> None:
        for i, action in enumerate(self.lr.rule.then):
            loc: Loc = ("then", i)
            if isinstance(action, ConcludeAction):
                if action.conclude not in self.concepts:
                    self.add((*loc, "conclude"), f"unknown concept '{action.conclude}'"
                             f"{did_you_mean(action.conclude, self.concepts)} "
                             "(add it to a file in concepts/)")
            elif isinstance(action, HandoverAction):
                if action.handover not in self.algorithms:
                    self.add((*loc, "handover"), f"unknown algorithm '{action.handover}'"
                             f"{did_you_mean(action.handover, self.algorithms)}; "
                             "allowed: " + _allowed(self.algorithms))
            elif isinstance(action, ComputeAction):
                self.compute(action.compute, bound, loc)
            elif isinstance(action, DeclareAction):
                self.declare(action, bound, loc)

    def compute(self, name: str, bound: set[str], loc: Loc) -> None:
        if name not in calculations.CALCULATIONS:
            self.add((*loc, "compute"), f"unknown calculation '{name}'"
                     f"{did_you_mean(name, calculations.CALCULATIONS)}; allowed: "
                     + _allowed(calculations.CALCULATIONS))
            return
        calc = calculations.CALCULATIONS[name]
        missing = [a for a in calc.arguments if a not in bound]
        if missing:
            self.add((*loc, "compute"), f"calculation '{name}' needs the rule to bind "
                     + ", ".join("$" + m for m in missing))
        declarable = declarable_fact_types(self.fact_types)
        for fact in calc.declares:
            if fact not in declarable:
                self.add((*loc, "compute"), f"calculation '{name}' declares '{fact}' facts, "
                         "which is not a fact type rules can declare; one of: "
                         + ", ".join(declarable))

    def declare(self, action: DeclareAction, bound: set[str], loc: Loc) -> None:
        spec = action.declare
        ft = self.fact_types.get(spec.fact)
        derived = declarable_fact_types(self.fact_types)
        if ft is None or spec.fact not in derived:
            self.add((*loc, "declare", "fact"), f"cannot declare '{spec.fact}'; rules declare "
                     "conclusions with `conclude`, handovers with `handover`, or one of: "
                     + ", ".join(derived))
            return
        for name, value in spec.with_.items():
            floc = (*loc, "declare", "with", name)
            fspec = ft.fields.get(name)
            if fspec is None:
                self.add(floc, f"unknown field '{name}' of '{spec.fact}'"
                         f"{did_you_mean(name, ft.fields)}; allowed: " + _allowed(ft.fields))
            elif (var := variable_name(value)) is not None:
                if var not in bound:
                    self.add(floc, f"variable {value} is not bound by the rule's conditions")
            else:
                self.literal(spec.fact, name, fspec, value, floc)


def check_rules(rules: list[LoadedRule], docs: dict[str, YamlDocument],
                fact_types: dict[str, FactType], concepts: dict[str, Concept],
                parameters: dict[str, Parameter], sources: dict[str, SourceInfo],
                algorithms: tuple[str, ...]) -> list[KBIssue]:
    from .loader import citation_problem

    issues: list[KBIssue] = []
    seen: dict[str, LoadedRule] = {}
    for lr in rules:
        if lr.rule.id in seen:
            first = seen[lr.rule.id]
            issues.append(KBIssue(lr.file, lr.line, lr.rule.id,
                                  f"duplicate rule id (first at {first.file}:{first.line})"))
            continue
        seen[lr.rule.id] = lr
        checker = _RuleChecker(lr, docs.get(lr.file), fact_types, concepts, parameters,
                               algorithms)
        bound = checker.conditions(list(lr.rule.when), ("when",), set())
        positive = PatternCondition | AnyCondition | AllCondition
        if not any(isinstance(c, positive) for c in lr.rule.when):
            checker.add(("when",), "a rule needs at least one positive condition (fact or any)")
        checker.actions(bound)
        for i, c in enumerate(lr.rule.cite):
            problem = citation_problem(c, sources)
            if problem:
                checker.add(("cite", i), problem, "citation")
        issues.extend(checker.issues)
    return issues


def iter_citations(rules: list[LoadedRule]) -> Iterator[tuple[LoadedRule, Citation]]:
    for lr in rules:
        for c in lr.rule.cite:
            yield lr, c
