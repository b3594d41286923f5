"""The experta engine base class that records the trace as rules fire."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pumpdx.kb import calculations
from pumpdx.kb.facts.registry import FactType
from pumpdx.kb.rulelang import variable_name
from pumpdx.kb.schema import ComputeAction, ConcludeAction, DeclareAction, HandoverAction

from .compat import experta
from .factclasses import fact_class
from .strategy import DeterministicStrategy, rule_meta
from .trace import Firing, Trace, TraceFact

MAX_FIRINGS = 5000


class RunawayError(RuntimeError):
    """The engine stopped a case: the rules kept firing past MAX_FIRINGS (a rule loop in
    the knowledge base), or the case went over its CPU or memory budget (a rule that
    joins too many facts; see pumpdx.engine.budget). str() is one line."""


class UnknownFieldError(ValueError):
    """A fact was declared with a field its fact type does not have (a vocabulary that
    disagrees with the case model or a calculation). str() is one line."""


def _content_key(type_name: str, fields: Mapping[str, Any]) -> tuple[Any, ...]:
    return (type_name, tuple(sorted((k, repr(v)) for k, v in fields.items())))


def _copy_token(token: Any) -> Any:
    """experta's Token.copy without re-validating a token that is already valid.

    Token.__new__ checks the tag and every fact of the token with isinstance
    before building it; a copy of a token has passed those checks already. The
    Rete network copies a token at every node it enters (a third of the matching
    time), so the copy builds the same tuple directly: same tag, a copy of the
    fact set, a copy of the context.
    """
    return tuple.__new__(type(token), (token.tag, token.data.copy(), token.context.copy()))


experta.matchers.rete.token.Token.copy = _copy_token


def _distinct_nodes(root: Any) -> tuple[Any, ...]:
    """Every node of a Rete network once, parents before children."""
    seen: set[int] = set()
    order: list[Any] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        order.append(node)
        stack.extend(child.node for child in reversed(node.children))
    return tuple(order)


class TracingEngine(experta.KnowledgeEngine):  # type: ignore[misc,name-defined]
    """Runs one case at a time after reset(), recording every firing and fact."""

    __strategy__ = DeterministicStrategy
    fact_types: dict[str, FactType] = {}
    concept_kinds: dict[str, str] = {}
    params: dict[str, Any] = {}
    rule_algorithms: dict[str, str] = {}

    def __init__(self) -> None:
        super().__init__()
        # Collected once; experta walks for them on every reset and every step.
        self._conflict_set_nodes: tuple[Any, ...] = tuple(
            self.matcher._get_conflict_set_nodes())
        self._nodes: tuple[Any, ...] = _distinct_nodes(self.matcher.root_node)
        self._deffacts: list[Any] = list(self.get_deffacts())
        self._entry_points: dict[type, tuple[Any, ...]] = {}

    def run_case(self, facts: Iterable[tuple[str, dict[str, Any]]]) -> Trace:
        self.reset()
        self._facts: list[TraceFact] = []
        self._firings: list[Firing] = []
        self._by_content: dict[tuple[Any, ...], int] = {}
        self._declared: list[int] | None = None
        self._seq = 0
        # Declared as a batch: while `running`, experta does not match after every
        # fact; the first step of run() matches them all at once. The agenda ends
        # up the same (activation keys are unique, see strategy.py).
        self.running = True
        for type_name, fields in facts:
            self._add(type_name, fields, None)
        self.running = False
        self.run()
        return Trace(facts=list(self._facts), firings=list(self._firings))

    # -- experta's reset and matching, without the repeated walks ------------
    def reset(self, **kwargs: Any) -> None:
        """experta's reset, leaving the engine in the same state, faster.

        experta resets the Rete network recursively, once per path to a node
        (thousands of calls when rules share nodes), and finds its DefFacts by
        inspecting every attribute of the engine, every rule included. Here each
        distinct node is reset once and the DefFacts were found in __init__. The
        initial fact is matched by the first step of run(), with the input facts.
        """
        if kwargs:
            super().reset(**kwargs)
            return
        self.agenda = experta.agenda.Agenda()
        self.facts = experta.factlist.FactList()
        for node in self._nodes:
            node._reset()
        for deffact in self._deffacts:
            for fact in deffact():
                self.facts.declare(fact)
        self.running = False

    def _entries(self, fact: Any) -> tuple[Any, ...]:
        """The callbacks of the network's root that a fact of this type can pass.

        experta's BusNode sends every fact to every child of the root, one type
        test per fact type (a token copy each) of which one passes. The children
        whose type test fails do nothing else, so they are skipped here.
        """
        fact_type = type(fact)
        entries = self._entry_points.get(fact_type)
        if entries is None:
            type_check = experta.matchers.rete.check.TypeCheck
            entries = tuple(
                child.callback for child in self.matcher.root_node.children
                if not isinstance(getattr(child.node, "matcher", None), type_check)
                or child.node.matcher.fact_type == fact_type)
            self._entry_points[fact_type] = entries
        return entries

    def get_activations(self) -> tuple[list[Any], list[Any]]:
        """experta's ReteMatcher.changes, with facts sent only where their type
        matches and only the conflict sets that changed read."""
        adding, deleting = self.facts.changes
        token_class = experta.matchers.rete.token.Token
        for fact in deleting:
            token = token_class.invalid(fact)
            for callback in self._entries(fact):
                callback(token)
        for fact in adding:
            token = token_class.valid(fact)
            for callback in self._entries(fact):
                callback(token)
        added: list[Any] = []
        removed: list[Any] = []
        for node in self._conflict_set_nodes:
            if node.added or node.removed:
                node_added, node_removed = node.get_activations()
                added.extend(node_added)
                removed.extend(node_removed)
        return added, removed

    # -- declaring ------------------------------------------------------
    def _complete(self, type_name: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Every field of the fact type (None: missing); a field the type does not
        declare is an error, never dropped."""
        spec = self.fact_types[type_name]
        unknown = [name for name in fields if name not in spec.fields]
        if unknown:
            raise UnknownFieldError(
                f"a '{type_name}' fact has no field {', '.join(map(repr, sorted(unknown)))}; "
                f"its fields are {', '.join(spec.fields)} (kb/facts/registry.py)")
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
                fields = {k: v if (var := variable_name(v)) is None else bindings[var]
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
            key = getattr(activation, "key", None)  # set by DeterministicStrategy
            bindings = key[-1] if key is not None else sorted(
                (k, repr(v)) for k, v in activation.context.items())
            refraction = (rule_id, tuple(matched), tuple(bindings))
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
