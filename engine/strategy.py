"""A conflict-resolution strategy with a unique, hash-independent key.

experta's DepthStrategy keys activations by (salience, fact ids) only. Two
activations with equal keys make its bisect-based removal miss the right one (so
an activation whose NOT condition became false can still fire) and leave their
order to set iteration, which varies with PYTHONHASHSEED. Here the key is
(salience, fact ids newest first, rule order in the KB, rule id, bindings), unique
per activation, and removal is by equality over the whole agenda.
"""

from __future__ import annotations

import bisect
from typing import Any

from .compat import experta

_Strategy: Any = experta.abstract.Strategy


def rule_meta(rule: Any) -> tuple[int, str]:
    """(order, id) of a compiled rule, read from its RHS function."""
    wrapped = getattr(rule, "_wrapped", None)
    return getattr(wrapped, "pumpdx_order", 10**9), getattr(wrapped, "pumpdx_rule_id", "")


def activation_key(activation: Any) -> tuple[Any, ...]:
    order, rule_id = rule_meta(activation.rule)
    facts = sorted((f["__factid__"] for f in activation.facts), reverse=True)
    bindings = sorted((k, repr(v)) for k, v in activation.context.items())
    return (activation.rule.salience, facts, -order, rule_id, bindings)


class DeterministicStrategy(_Strategy):  # type: ignore[misc]
    """Highest salience first, then newest facts, then earlier rules in the KB."""

    def _update_agenda(self, agenda: Any, added: Any, removed: Any) -> None:
        for act in removed:
            act.key = activation_key(act)
            for i, other in enumerate(agenda.activations):
                if other == act:
                    del agenda.activations[i]
                    break
        for act in added:
            act.key = activation_key(act)
            bisect.insort(agenda.activations, act)
