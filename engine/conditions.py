"""Evaluate rule conditions on the facts of a finished run, with the compiled semantics.

The engine records what fired, not what did not. To say why a rule did not fire
(`pumpdx explain --why-not`) or which alternatives of a condition the scenarios
exercise (`pumpdx kb coverage --branches`), the conditions are evaluated again on the
facts a run ended with. Each `fact:` pattern is the one the compiler builds
(`compiler.compile_pattern`), and each field is tested by experta's own check of that
pattern, so a change of the compiled semantics (e.g. of absent findings) reaches these
tools unchanged. Joins (`$name` in two patterns) compare the bound values by equality,
as experta's network does; `not`, `any` and `all` combine matches as the compiled
NOT / OR / AND do.

Facts are never retracted during a run, so a positive pattern that holds at the end
held from the moment its facts were declared; a `not` is judged on the final facts,
which is what blocked a rule whose blocker was derived later.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pumpdx.kb.loader import KnowledgeBase
from pumpdx.kb.rulelang import (
    AllCondition,
    AnyCondition,
    ConditionVisitor,
    NotCondition,
    PatternCondition,
    variable_name,
    walk,
)

from .compat import experta
from .compiler import compile_pattern
from .trace import TraceFact

Bindings = tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Env:
    """One partial match: the variables bound so far and the facts matched."""

    bindings: Bindings = ()
    matched: tuple[int, ...] = ()

    def get(self, name: str) -> tuple[bool, Any]:
        for k, v in self.bindings:
            if k == name:
                return True, v
        return False, None

    def extend(self, new: Mapping[str, Any], fact_id: int) -> Env:
        bound = dict(self.bindings)
        bound.update(new)
        return Env(tuple(sorted(bound.items())), (*self.matched, fact_id))


@dataclass(frozen=True)
class FieldResult:
    """One field of one fact under one pattern: its value and whether the test passed."""

    name: str
    value: Any
    passed: bool
    variable: str | None = None


@dataclass(frozen=True)
class FactFields:
    fact: TraceFact
    fields: tuple[FieldResult, ...]

    @property
    def passed(self) -> bool:
        return all(f.passed for f in self.fields)


@dataclass
class CompiledPattern:
    cond: PatternCondition
    checks: list[tuple[str, Any, str | None]] = field(default_factory=list)


class FactBase:
    """The facts of one run, by type, with every field of their type (None = absent)."""

    def __init__(self, facts: Iterable[TraceFact], kb: KnowledgeBase) -> None:
        self.kb = kb
        self.by_id: dict[int, TraceFact] = {}
        self.by_type: dict[str, list[tuple[TraceFact, dict[str, Any]]]] = {}
        for f in facts:
            spec = kb.fact_types.get(f.type)
            names = spec.fields if spec is not None else f.content
            full = {name: f.content.get(name) for name in names}
            self.by_id[f.id] = f
            self.by_type.setdefault(f.type, []).append((f, full))

    def of_type(self, fact_type: str) -> list[tuple[TraceFact, dict[str, Any]]]:
        return self.by_type.get(fact_type, [])


class ConditionEvaluator:
    """Evaluates the conditions of one knowledge base's rules; patterns compiled once."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.params = kb.param_values()
        self._compiled: dict[int, CompiledPattern] = {}
        self._keep: list[PatternCondition] = []  # keeps id() keys valid

    def compiled(self, cond: PatternCondition) -> CompiledPattern:
        key = id(cond)
        cp = self._compiled.get(key)
        if cp is None:
            pattern = compile_pattern(cond, self.params)
            cp = CompiledPattern(cond)
            check_class = experta.matchers.rete.check.FeatureCheck
            for name, constraint in pattern.items():
                spec = cond.where.get(str(name))
                variable = variable_name(spec)
                cp.checks.append((str(name), check_class(name, constraint), variable))
            self._compiled[key] = cp
            self._keep.append(cond)
        return cp

    # -- one fact against one pattern ----------------------------------------
    def field_results(self, cond: PatternCondition, fields: Mapping[str, Any],
                      env: Env | None = None) -> tuple[FieldResult, ...]:
        """Every field test of the pattern on one fact (a join against `env`)."""
        out = []
        for name, check, variable in self.compiled(cond).checks:
            value = fields.get(name)
            result = check({name: value})
            passed = result is not False
            if passed and variable is not None and env is not None:
                known, bound = env.get(variable)
                passed = not known or bound == value
            out.append(FieldResult(name, value, passed, variable))
        return tuple(out)

    def _bind(self, cond: PatternCondition, fields: Mapping[str, Any], env: Env
              ) -> dict[str, Any] | None:
        new: dict[str, Any] = {}
        for name, check, variable in self.compiled(cond).checks:
            value = fields.get(name)
            result = check({name: value})
            if result is False:
                return None
            if variable is not None:
                known, bound = env.get(variable)
                if known and bound != value:
                    return None
                new[variable] = value
        return new

    # -- conditions on partial matches ---------------------------------------
    def match(self, cond: Any, envs: list[Env], facts: FactBase,
              negated_on: FactBase | None = None) -> list[Env]:
        """The partial matches `envs` extended by one condition (empty: it fails).
        `negated_on`: the facts a `not` is judged on (default: `facts`)."""
        return _Matcher(self).visit(cond, envs, facts, negated_on)

    def match_all(self, conds: Iterable[Any], envs: list[Env], facts: FactBase,
                  negated_on: FactBase | None = None) -> list[Env]:
        for cond in conds:
            envs = self.match(cond, envs, facts, negated_on)
            if not envs:
                return []
        return envs

    def first_failure(self, conds: list[Any], facts: FactBase
                      ) -> tuple[int, list[Env]] | None:
        """(index of the first condition no match survives, the matches before it), or
        None when all conditions hold."""
        envs = [Env()]
        for i, cond in enumerate(conds):
            new = self.match(cond, envs, facts)
            if not new:
                return i, envs
            envs = new
        return None


class _Matcher(ConditionVisitor[list[Env]]):
    """ConditionEvaluator.match, one method per kind of condition (args: envs, facts,
    negated_on)."""

    def __init__(self, evaluator: ConditionEvaluator) -> None:
        self.ev = evaluator

    def pattern(self, cond: PatternCondition, *args: Any) -> list[Env]:
        envs, facts, _negated_on = args
        out = []
        for env in envs:
            for fact, fields in facts.of_type(cond.fact):
                new = self.ev._bind(cond, fields, env)
                if new is not None:
                    out.append(env.extend(new, fact.id))
        return out

    def not_(self, cond: NotCondition, *args: Any) -> list[Env]:
        envs, facts, negated_on = args
        judged = negated_on or facts
        return [env for env in envs if not self.ev.match_all(cond.not_, [env], judged)]

    def any_(self, cond: AnyCondition, *args: Any) -> list[Env]:
        envs, facts, negated_on = args
        out: list[Env] = []
        for alt in cond.any:
            out.extend(e for e in self.ev.match(alt, envs, facts, negated_on) if e not in out)
        return out

    def all_(self, cond: AllCondition, *args: Any) -> list[Env]:
        envs, facts, negated_on = args
        return self.ev.match_all(cond.all, envs, facts, negated_on)


def iter_conditions(conds: Iterable[Any], path: str = "when"
                    ) -> Iterator[tuple[str, Any]]:
    """Every condition with its path (`when[2].any[1]`), outer before inner."""
    for site in walk(list(conds), (path,)):
        yield site.path, site.cond
