"""Walking a rule's conditions: one traversal for every tool.

`walk` yields every condition once, outer before inner, with where it sits (`loc`, the
path of keys and indexes in the rule file, e.g. ("when", 2, "any", 1)) and whether it
sits under `not:`. `patterns` keeps the fact patterns. `ConditionVisitor` is for tools
that fold a condition into something (the compiler, the binding check, the evaluator):
it dispatches each kind of condition to one method.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .tree import GROUPS, AllCondition, AnyCondition, NotCondition, PatternCondition

Loc = tuple[str | int, ...]
T = TypeVar("T")


def children(cond: Any) -> tuple[str, list[Any]] | None:
    """(`not` / `any` / `all`, the conditions it groups), or None for a pattern."""
    for key, attr in GROUPS.items():
        inner = getattr(cond, attr, None)
        if isinstance(inner, list) and not isinstance(cond, PatternCondition):
            return key, inner
    return None


@dataclass(frozen=True)
class Site:
    """One condition of a rule and where it sits."""

    cond: Any
    loc: Loc
    siblings: tuple[Any, ...]
    negated: bool = False  # under an odd number of `not:` (the rule needs it NOT to hold)
    under_not: bool = False  # under any `not:`
    in_any: bool = False  # an alternative of an `any:` (or inside one)

    @property
    def path(self) -> str:
        return path_text(self.loc)

    @property
    def pattern(self) -> PatternCondition:
        assert isinstance(self.cond, PatternCondition)
        return self.cond


def walk(conds: Sequence[Any], loc: Loc = ("when",), *, negated: bool = False,
         under_not: bool = False, in_any: bool = False) -> Iterator[Site]:
    """Every condition inside `conds` (also inside not / any / all), outer first."""
    siblings = tuple(conds)
    for i, cond in enumerate(conds):
        here = (*loc, i)
        yield Site(cond, here, siblings, negated, under_not, in_any)
        group = children(cond)
        if group is not None:
            key, inner = group
            yield from walk(inner, (*here, key), negated=negated != (key == "not"),
                            under_not=under_not or key == "not",
                            in_any=in_any or key == "any")


def patterns(conds: Sequence[Any], loc: Loc = ("when",)) -> Iterator[Site]:
    """Every fact pattern inside `conds`, with where it sits."""
    return (s for s in walk(conds, loc) if isinstance(s.cond, PatternCondition))


def path_text(loc: Loc) -> str:
    """("when", 2, "any", 1) -> "when[2].any[1]"."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


class ConditionVisitor(Generic[T]):
    """Dispatches a condition to the method for its kind; subclasses define them."""

    def visit(self, cond: Any, *args: Any) -> T:
        if isinstance(cond, PatternCondition):
            return self.pattern(cond, *args)
        if isinstance(cond, NotCondition):
            return self.not_(cond, *args)
        if isinstance(cond, AnyCondition):
            return self.any_(cond, *args)
        if isinstance(cond, AllCondition):
            return self.all_(cond, *args)
        raise TypeError(f"unknown condition {cond!r}")

    def pattern(self, cond: PatternCondition, *args: Any) -> T:
        raise NotImplementedError

    def not_(self, cond: NotCondition, *args: Any) -> T:
        raise NotImplementedError

    def any_(self, cond: AnyCondition, *args: Any) -> T:
        raise NotImplementedError

    def all_(self, cond: AllCondition, *args: Any) -> T:
        raise NotImplementedError
