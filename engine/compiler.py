"""Compile a loaded knowledge base into one experta engine class.

Each YAML rule becomes an experta Rule whose left-hand side is built from its
`when` conditions and whose right-hand side performs its `then` actions through
TracingEngine.perform. Compiling and instantiating is the slow part (the Rete
network is built in __init__), so callers build once and reset() per case.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pumpdx.kb.loader import KnowledgeBase, LoadedRule
from pumpdx.kb.rulelang import (
    AllCondition,
    AnyCondition,
    ConditionVisitor,
    FieldTest,
    NotCondition,
    PatternCondition,
    field_predicate,
    variable_name,
)

from .compat import experta
from .factclasses import fact_class
from .runtime import TracingEngine


def _is_present(value: Any) -> bool:
    return value is not None


def _pattern(cond: PatternCondition, params: dict[str, Any]) -> Any:
    """The experta pattern of one `fact:` condition; every field means what the rule
    language (pumpdx.kb.rulelang) says: a variable binds a present value, a literal is
    an experta literal (equality), a field test is its predicate."""
    fields: dict[str, Any] = {}
    for name, value in cond.where.items():
        variable = variable_name(value)
        if variable is not None:
            # a variable binds a present value only: a missing finding binds nothing
            fields[name] = experta.W(variable) & experta.P(_is_present)
        elif isinstance(value, FieldTest):
            fields[name] = experta.P(field_predicate(value, params))
        else:
            fields[name] = value
    return fact_class(cond.fact)(**fields)


class _Compiler(ConditionVisitor[Any]):
    """A condition -> experta's conditional element (pattern, NOT, OR, AND)."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params

    def pattern(self, cond: PatternCondition, *args: Any) -> Any:
        return _pattern(cond, self.params)

    def not_(self, cond: NotCondition, *args: Any) -> Any:
        inner = [self.visit(c) for c in cond.not_]
        return experta.NOT(inner[0] if len(inner) == 1 else experta.AND(*inner))

    def any_(self, cond: AnyCondition, *args: Any) -> Any:
        return experta.OR(*(self.visit(c) for c in cond.any))

    def all_(self, cond: AllCondition, *args: Any) -> Any:
        return experta.AND(*(self.visit(c) for c in cond.all))


def compile_condition(cond: Any, params: dict[str, Any]) -> Any:
    return _Compiler(params).visit(cond)


def _rhs(lr: LoadedRule) -> Callable[..., None]:
    actions = tuple(lr.rule.then)

    def fire(*args: Any, **bindings: Any) -> None:
        engine = next(a for a in args if isinstance(a, TracingEngine))
        engine.perform(actions, bindings)

    fire.__name__ = lr.rule.id
    fire.pumpdx_rule_id = lr.rule.id  # type: ignore[attr-defined]
    fire.pumpdx_order = lr.order  # type: ignore[attr-defined]
    return fire


def compile_engine_class(kb: KnowledgeBase) -> type[TracingEngine]:
    params = kb.param_values()
    namespace: dict[str, Any] = {
        "fact_types": kb.fact_types,
        "concept_kinds": {cid: c.kind for cid, c in kb.concepts.items()},
        "params": params,
        "rule_algorithms": {lr.rule.id: lr.algorithm for lr in kb.rules},
    }
    for lr in kb.rules:
        conditions = [compile_condition(c, params) for c in lr.rule.when]
        rule = experta.Rule(*conditions, salience=lr.rule.salience)
        namespace[f"rule_{lr.order:04d}_{lr.rule.id}"] = rule(_rhs(lr))
    return type("CompiledKnowledgeBase", (TracingEngine,), namespace)


def build_engine(kb: KnowledgeBase) -> TracingEngine:
    """Compile and instantiate (builds the Rete network)."""
    return compile_engine_class(kb)()


def compile_pattern(cond: PatternCondition, params: dict[str, Any]) -> Any:
    """The experta pattern the compiler builds for one `fact:` condition.

    Shared with the condition evaluator (engine/conditions.py, used by `explain` and
    branch coverage) so that a field is tested there exactly as in the compiled rule.
    """
    return _pattern(cond, params)
