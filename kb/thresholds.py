"""Gaps and overlaps between the numeric thresholds that rules test on one field.

Two rules of one algorithm that test the same field of the same fact type against the
same boundary (the same number, or the same parameter) from opposite sides are two
branches of one decision: "volume lower than 2 mL" and "volume above 2 mL". At the
boundary itself one of them should hold:

    gap      neither holds at the boundary (lt 2 and gt 2): a value of exactly 2 falls
             through both branches
    overlap  both hold at the boundary (le 2 and ge 2): a value of exactly 2 takes both
             (reported when the two rules conclude nothing in common; two rules that
             share a conclusion are not alternative branches)

A rule that tests the boundary itself (eq, in) closes a gap. Values are compared as
entered (parameters resolved), so a boundary is "the same" only when it is equal.
Alternatives inside one rule's `any:` are not compared with each other (a rule may
leave allowed values out on purpose, e.g. MRI field strengths other than 1.5 or 3 T).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .rulelang import FieldTest, ParamRef, PatternCondition, patterns
from .schema import ConcludeAction

if TYPE_CHECKING:
    from .issues import KBIssue
    from .lint import LintContext
    from .loader import LoadedRule


# An operator's side of its operand, as the check below reads it.
_THRESHOLD_OP = {("below", False): "lt", ("below", True): "le", ("above", False): "gt",
                 ("above", True): "ge", ("at", True): "eq", ("at", False): "eq"}


@dataclass(frozen=True)
class Bound:
    rule: LoadedRule
    path: tuple[str | int, ...]
    fact: str
    field: str
    op: str  # lt, le, gt, ge, eq
    value: float
    shown: str


def _positive_patterns(conds: list[Any], loc: tuple[str | int, ...]
                       ) -> Iterator[tuple[PatternCondition, tuple[str | int, ...]]]:
    for site in patterns(conds, loc):
        if not site.under_not:  # a negated threshold is not a branch of the decision
            yield site.pattern, site.loc


def bounds(lr: LoadedRule, params: dict[str, Any]) -> list[Bound]:
    out = []
    for pattern, loc in _positive_patterns(list(lr.rule.when), ("when",)):
        for name, spec in pattern.where.items():
            if not isinstance(spec, FieldTest):
                continue
            for op, raw in spec.operators():
                if op.side is None:
                    continue
                if op.operand == "values":
                    for v in raw:
                        if isinstance(v, int | float) and not isinstance(v, bool):
                            out.append(Bound(lr, (*loc, "where", name, op.key), pattern.fact,
                                             name, "eq", float(v), f"{v:g}"))
                    continue
                value = params.get(raw.param) if isinstance(raw, ParamRef) else raw
                if isinstance(value, bool) or not isinstance(value, int | float):
                    continue
                shown = f"{{param: {raw.param}}} = {value:g}" if isinstance(raw, ParamRef) \
                    else f"{value:g}"
                out.append(Bound(lr, (*loc, "where", name, op.key), pattern.fact, name,
                                 _THRESHOLD_OP[op.side, op.inclusive], float(value), shown))
    return out


def check_thresholds(ctx: LintContext) -> list[KBIssue]:
    kb = ctx.kb
    params = kb.param_values()
    groups: dict[tuple[str, str, str, float], list[Bound]] = {}
    for lr in kb.rules:
        for b in bounds(lr, params):
            groups.setdefault((lr.algorithm, b.fact, b.field, b.value), []).append(b)
    issues = []
    for (_alg, fact, field, _value), group in sorted(groups.items(), key=lambda kv: kv[0]):
        below = [b for b in group if b.op in ("lt", "le")]
        above = [b for b in group if b.op in ("gt", "ge")]
        if any(b.op == "eq" for b in group):
            below_incl = above_incl = True
        else:
            below_incl = any(b.op == "le" for b in below)
            above_incl = any(b.op == "ge" for b in above)
        for lo in below:
            for hi in above:
                if lo.rule.rule.id == hi.rule.rule.id:
                    continue
                second = max(lo, hi, key=lambda b: b.rule.order)
                where = (f"{fact}.{field}: rule {lo.rule.rule.id} tests {lo.op} {lo.shown}, "
                         f"rule {hi.rule.rule.id} tests {hi.op} {hi.shown}")
                if not below_incl and not above_incl:
                    message = (f"threshold gap at {hi.shown}: {where}; a value of exactly "
                               f"{hi.value:g} takes neither branch")
                elif lo.op == "le" and hi.op == "ge" and not (
                        _concludes(lo.rule) & _concludes(hi.rule)):
                    message = (f"threshold overlap at {hi.shown}: {where}; a value of "
                               f"exactly {hi.value:g} takes both branches")
                else:
                    continue
                issues.append(ctx.rule_issue(second.rule, second.path, message, "threshold"))
    return issues


def _concludes(lr: LoadedRule) -> set[str]:
    return {a.conclude for a in lr.rule.then if isinstance(a, ConcludeAction)}
