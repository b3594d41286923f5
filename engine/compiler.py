"""Compile a loaded knowledge base into one experta engine class.

Each YAML rule becomes an experta Rule whose left-hand side is built from its
`when` conditions and whose right-hand side performs its `then` actions through
TracingEngine.perform. Compiling and instantiating is the slow part (the Rete
network is built in __init__), so callers build once and reset() per case.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from pumpdx.kb.loader import KnowledgeBase, LoadedRule
from pumpdx.kb.schema import (
    AllCondition,
    AnyCondition,
    FieldTest,
    NotCondition,
    ParamRef,
    PatternCondition,
)

from .compat import experta
from .factclasses import fact_class
from .runtime import TracingEngine

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le,
    "gt": operator.gt, "ge": operator.ge,
}


def _resolve(value: Any, params: dict[str, Any]) -> Any:
    return params[value.param] if isinstance(value, ParamRef) else value


def _predicate(test: FieldTest, params: dict[str, Any]) -> Callable[[Any], bool]:
    checks: list[tuple[str, Any]] = []
    for op in _OPS:
        value = getattr(test, op)
        if value is not None:
            checks.append((op, _resolve(value, params)))
    members = frozenset(test.in_) if test.in_ is not None else None
    excluded = frozenset(test.not_in) if test.not_in is not None else None
    present = test.present

    def check(value: Any) -> bool:
        if present is not None and (value is not None) != present:
            return False
        if value is None:
            # a missing value passes only presence tests and `ne`/`not_in`
            if members is not None or any(op not in ("ne",) for op, _ in checks):
                return False
            return True
        if members is not None and value not in members:
            return False
        if excluded is not None and value in excluded:
            return False
        return all(_OPS[op](value, operand) for op, operand in checks)

    return check


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
