"""How many combinations of facts a rule can make the engine try: lint's join check.

experta's Rete network joins patterns by trying every combination of the facts that
pass each pattern. A pattern of a fact type that a case can hold many times (signs,
drugs, imaging, conclusions, ...) that pins none of its fields to a constant passes
every fact of that type, so five such `sign` patterns in one rule make the engine try
up to 41^5 combinations (over 60 s and 3.7 GB on a 20-sign case).

The estimate, per alternative of the rule (each choice in its `any` conditions):
patterns of one type that bind the same variable on the same field are joined on it
and count once; each group that pins no field (a constant, `eq` or `in`) counts as
the most facts of its type a case can hold; the groups multiply. A rule whose
estimate exceeds JOIN_LIMIT is an error.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from enum import Enum
from typing import Any

from pydantic import BaseModel

from .facts import Case
from .facts.registry import FactType
from .loader import KnowledgeBase
from .rulelang import PatternCondition, children, pins, variable_name

#: Most combinations a rule may make the engine try for one case.
JOIN_LIMIT = 10_000
#: Alternatives of a rule looked at (rules with more `any` choices are cut off here).
MAX_ALTERNATIVES = 1_000


def instance_bounds(kb: KnowledgeBase) -> dict[str, int]:
    """The most facts of each type one case can hold (1 for single-fact types)."""
    bounds: dict[str, int] = {}
    for name, ft in kb.fact_types.items():
        bounds[name] = _bound(ft)
    return bounds


def _bound(ft: FactType) -> int:
    if ft.origin == "derived":
        # conclusions and handovers are sets over their catalog; others are few
        choices = [len(spec.choices) for spec in ft.fields.values() if spec.kind == "choice"]
        return max(choices, default=1) if ft.name in ("conclusion", "handover") else 1
    if not ft.case_path.endswith("[]"):
        return 1
    model: type[BaseModel] = Case
    parts = ft.case_path.removesuffix("[]").split(".")
    for part in parts[:-1]:
        model = _model_of(model.model_fields[part].annotation)
    info = model.model_fields[parts[-1]]
    limits = [int(m.max_length) for m in info.metadata if getattr(m, "max_length", None)]
    args = typing.get_args(info.annotation)
    item: Any = args[0] if args else None
    if isinstance(item, type) and issubclass(item, Enum):
        limits.append(len(item))  # the engine holds equal facts once: enum items are a set
    return min([*limits, 1_000])


def _model_of(annotation: Any) -> type[BaseModel]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    raise TypeError(f"no model in {annotation!r}")


def _alternatives(conds: list[Any]) -> Iterator[list[PatternCondition]]:
    """The patterns of each alternative of a conjunction (`any` expanded)."""
    options: list[list[list[PatternCondition]]] = []
    for cond in conds:
        group = children(cond)
        if group is None:
            options.append([[cond]])
        elif group[0] == "any":
            options.append([alt for c in group[1] for alt in _limited(_alternatives([c]))])
        else:  # not, all
            options.append(list(_limited(_alternatives(group[1]))))
    combos: list[list[PatternCondition]] = [[]]
    for choice in options:
        combos = [done + more for done in combos for more in choice][:MAX_ALTERNATIVES]
    yield from combos


def _limited(alternatives: Iterator[list[PatternCondition]]) -> list[list[PatternCondition]]:
    out = []
    for alt in alternatives:
        out.append(alt)
        if len(out) >= MAX_ALTERNATIVES:
            break
    return out


def join_estimate(patterns: list[PatternCondition], bounds: dict[str, int]) -> int:
    """Combinations the engine may try for one alternative (see the module docstring)."""
    groups: list[tuple[set[tuple[str, str, str]], bool, int]] = []  # joins, pinned, bound
    for p in patterns:
        bound = bounds.get(p.fact, 1)
        if bound <= 1:
            continue
        joins = {(p.fact, name, var) for name, value in p.where.items()
                 if (var := variable_name(value)) is not None}
        pinned = any(pins(v) for v in p.where.values())
        merged = [g for g in groups if g[0] & joins]
        for g in merged:
            groups.remove(g)
            joins |= g[0]
            pinned = pinned or g[1]
        groups.append((joins, pinned, bound))
    total = 1
    for _joins, pinned, bound in groups:
        if not pinned:
            total *= bound
    return total


def worst_join(when: list[Any], bounds: dict[str, int]) -> int:
    """The largest estimate over the alternatives of a rule's conditions."""
    return max((join_estimate(alt, bounds) for alt in _alternatives(when)), default=1)
