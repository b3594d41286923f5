"""Compile a loaded knowledge base into one experta engine class.

Each YAML rule becomes an experta Rule whose left-hand side is built from its
`when` conditions and whose right-hand side performs its `then` actions through
TracingEngine.perform. Compiling and instantiating is the slow part (the Rete
network is built in __init__), so callers build once and reset() per case.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pumpdx.kb.fieldtest import field_predicate
from pumpdx.kb.loader import KnowledgeBase, LoadedRule
from pumpdx.kb.schema import (
    AllCondition,
    AnyCondition,
    FieldTest,
    NotCondition,
    PatternCondition,
)

from .compat import experta
from .factclasses import fact_class
from .runtime import TracingEngine


def _predicate(test: FieldTest, params: dict[str, Any]) -> Callable[[Any], bool]:
    """The field test's meaning is defined once, in pumpdx.kb.fieldtest."""
    return field_predicate(test, params)


def _is_present(value: Any) -> bool:
    return value is not None


def _pattern(cond: PatternCondition, params: dict[str, Any]) -> Any:
    fields: dict[str, Any] = {}
    for name, value in cond.where.items():
        if isinstance(value, str) and value.startswith("$"):
            # a variable binds a present value only: a missing finding binds nothing
            fields[name] = experta.W(value[1:]) & experta.P(_is_present)
        elif isinstance(value, FieldTest):
            fields[name] = experta.P(_predicate(value, params))
        else:
            fields[name] = value
    return fact_class(cond.fact)(**fields)


def compile_condition(cond: Any, params: dict[str, Any]) -> Any:
    if isinstance(cond, PatternCondition):
        return _pattern(cond, params)
    if isinstance(cond, NotCondition):
        inner = [compile_condition(c, params) for c in cond.not_]
        return experta.NOT(inner[0] if len(inner) == 1 else experta.AND(*inner))
    if isinstance(cond, AnyCondition):
        return experta.OR(*(compile_condition(c, params) for c in cond.any))
    if isinstance(cond, AllCondition):
        return experta.AND(*(compile_condition(c, params) for c in cond.all))
    raise TypeError(f"unknown condition {cond!r}")


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
