"""The experta engine base class that records the trace as rules fire."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pumpdx.kb import calculations
from pumpdx.kb.facts.registry import FactType
from pumpdx.kb.schema import ComputeAction, ConcludeAction, DeclareAction, HandoverAction

from .compat import experta
from .factclasses import fact_class
from .strategy import DeterministicStrategy, rule_meta
from .trace import Firing, Trace, TraceFact

MAX_FIRINGS = 5000


class RunawayError(RuntimeError):
    """The rules kept firing past MAX_FIRINGS: a rule loop in the knowledge base."""


def _content_key(type_name: str, fields: Mapping[str, Any]) -> tuple[Any, ...]:
    return (type_name, tuple(sorted((k, repr(v)) for k, v in fields.items())))


class TracingEngine(experta.KnowledgeEngine):  # type: ignore[misc,name-defined]
    """Runs one case at a time after reset(), recording every firing and fact."""

    __strategy__ = DeterministicStrategy
    fact_types: dict[str, FactType] = {}
    concept_kinds: dict[str, str] = {}
    params: dict[str, Any] = {}
    rule_algorithms: dict[str, str] = {}

    def run_case(self, facts: Iterable[tuple[str, dict[str, Any]]]) -> Trace:
        self.reset()
        self._facts: list[TraceFact] = []
        self._firings: list[Firing] = []
        self._by_content: dict[tuple[Any, ...], int] = {}
        self._declared: list[int] | None = None
        self._seq = 0
        for type_name, fields in facts:
            self._add(type_name, fields, None)
        self.run()
        return Trace(facts=list(self._facts), firings=list(self._firings))

    # -- declaring ------------------------------------------------------
    def _complete(self, type_name: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        spec = self.fact_types[type_name]
        return {name: fields.get(name) for name in spec.fields}

    def _add(self, type_name: str, fields: Mapping[str, Any], firing: int | None) -> int:
        full = self._complete(type_name, fields)
        key = _content_key(type_name, full)
        existing = self._by_content.get(key)
        if existing is not None:
            fact_id = existing
        else:
            fact = self.declare(fact_class(type_name)(**full))
            fact_id = int(fact["__factid__"])
            self._by_content[key] = fact_id
            self._facts.append(TraceFact(
                id=fact_id, type=type_name,
                content={k: v for k, v in full.items() if v is not None},
                origin="input" if firing is None else "derived", derived_by=firing))
        if self._declared is not None and fact_id not in self._declared:
            self._declared.append(fact_id)
        return fact_id

    # -- actions (called from compiled rules) -----------------------------
    def perform(self, actions: Iterable[Any], bindings: Mapping[str, Any]) -> None:
        seq = self._seq
        for action in actions:
            if isinstance(action, ConcludeAction):
                self._add("conclusion", {"id": action.conclude,
                                         "kind": self.concept_kinds[action.conclude]}, seq)
            elif isinstance(action, HandoverAction):
                self._add("handover", {"algorithm": action.handover}, seq)
            elif isinstance(action, DeclareAction):
                fields = {k: bindings[v[1:]] if isinstance(v, str) and v.startswith("$") else v
                          for k, v in action.declare.with_.items()}
                self._add(action.declare.fact, fields, seq)
            elif isinstance(action, ComputeAction):
                for derived in calculations.run(action.compute, bindings, self.params):
                    self._add(derived.fact, derived.fields, seq)

    # -- the firing loop --------------------------------------------------
    def run(self, steps: float = float("inf")) -> None:
        """experta's run loop, plus refraction and a firing record (trace)."""
        self.running = True
        fired: set[tuple[Any, ...]] = set()
        while steps > 0 and self.running:
            added, removed = self.get_activations()
            self.strategy.update_agenda(self.agenda, added, removed)
            activation = self.agenda.get_next()
            if activation is None:
                break
            matched = sorted(int(f["__factid__"]) for f in activation.facts
                             if not isinstance(f, experta.InitialFact))
            _order, rule_id = rule_meta(activation.rule)
            refraction = (rule_id, tuple(matched),
                          tuple(sorted((k, repr(v)) for k, v in activation.context.items())))
            if refraction in fired:
                continue
            fired.add(refraction)
            steps -= 1
            self._seq += 1
            if self._seq > MAX_FIRINGS:
                self.running = False
                raise RunawayError(f"more than {MAX_FIRINGS} firings; last rule {rule_id}")
            self._declared = []
            activation.rule(self, **{k: v for k, v in activation.context.items()
                                     if not k.startswith("__")})
            self._firings.append(Firing(seq=self._seq, rule=rule_id,
                                        algorithm=self.rule_algorithms.get(rule_id, ""),
                                        matched=matched, declared=list(self._declared)))
            self._declared = None
        self.running = False
