"""The rulebook map: the whole knowledge base as one graph, and a case's path on it.

Nodes (attribute `kind`):
    rule        one rule (`algorithm`, `title`, `branch`, `order`)
    input       a case fact type as one algorithm's rules read it (one node per
                algorithm and type, drawn inside that algorithm's box: node id
                `input:ALGORITHM:TYPE`)
    derived     a derived fact type (expected_volume, volume_discrepancy, ...)
    concept     a concept of the catalog that some rule concludes or reads
    handover    the hand-over into an algorithm (`handover:ALGORITHM`)
Edges (attribute `kind`):
    reads       fact node -> rule (`negated` when it is read under `not:`)
    declares    rule -> fact node (conclude, handover, declare, compute)

Rules are linked only through what they read and declare, so the algorithms of
the review appear as chains: entry rules read the case, hand over (Fig. 11 ->
Fig. 8 -> Fig. 10) and conclude. `overlay` marks the part one assessment used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import networkx as nx

from pumpdx.engine.assessment import Assessment
from pumpdx.engine.trace import TraceFact
from pumpdx.kb import calculations
from pumpdx.kb.loader import KnowledgeBase
from pumpdx.kb.rulelang import FieldTest, PatternCondition, named_values, walk
from pumpdx.kb.schema import (
    ComputeAction,
    ConcludeAction,
    DeclareAction,
    HandoverAction,
)

from .graph import check_kb


def rule_node(rule_id: str) -> str:
    return f"rule:{rule_id}"


def patterns(condition: Any, negated: bool = False) -> Iterator[tuple[PatternCondition, bool]]:
    """Every fact pattern inside a condition, with whether it sits under `not`."""
    for site in walk([condition], under_not=negated):
        if isinstance(site.cond, PatternCondition):
            yield site.cond, site.under_not


def constant_values(test: Any) -> list[str] | None:
    """The values a `where:` value allows, when it names them (a literal, or an operator
    that pins them: eq, in); else None."""
    named = named_values(test) if isinstance(test, FieldTest | str | bool | int | float) \
        else None
    return None if named is None else [str(v) for v in named]


def describe_test(test: Any) -> str:
    if not isinstance(test, FieldTest):
        return f"= {test}"
    parts = []
    for key, value in test.model_dump(by_alias=True, exclude_none=True).items():
        if isinstance(value, dict) and "param" in value:
            value = f"param {value['param']}"
        if isinstance(value, list):
            value = "[" + ", ".join(map(str, value)) + "]"
        parts.append(f"{key} {value}")
    return " and ".join(parts)


def describe_pattern(p: PatternCondition, negated: bool) -> str:
    tests = ", ".join(f"{k} {describe_test(v)}" for k, v in p.where.items())
    text = p.fact + (f" ({tests})" if tests else "")
    return f"no {text}" if negated else text


def calculation_outputs(name: str) -> tuple[str, ...]:
    """The fact types a calculation declares (`@calculation(declares=...)`)."""
    calc = calculations.CALCULATIONS.get(name)
    return tuple(sorted(calc.declares)) if calc is not None else ()


def _read_targets(kb: KnowledgeBase, algorithm: str, p: PatternCondition) -> list[str]:
    if p.fact == "conclusion":
        ids = constant_values(p.where.get("id")) if "id" in p.where else None
        if ids is not None:
            return [f"concept:{i}" for i in ids]
        kinds = constant_values(p.where.get("kind")) if "kind" in p.where else None
        if kinds is not None:
            return [f"concept:{c.id}" for c in kb.concepts.values() if c.kind in kinds]
        return ["derived:conclusion"]
    if p.fact == "handover":
        algs = constant_values(p.where.get("algorithm")) if "algorithm" in p.where else None
        return [f"handover:{a}" for a in algs] if algs is not None else ["derived:handover"]
    spec = kb.fact_types.get(p.fact)
    if spec is not None and spec.origin == "input":
        return [f"input:{algorithm}:{p.fact}"]
    return [f"derived:{p.fact}"]


def _declare_targets(action: Any) -> list[str]:
    if isinstance(action, ConcludeAction):
        return [f"concept:{action.conclude}"]
    if isinstance(action, HandoverAction):
        return [f"handover:{action.handover}"]
    if isinstance(action, DeclareAction):
        fields = action.declare.with_
        if action.declare.fact == "conclusion" and isinstance(fields.get("id"), str):
            return [f"concept:{fields['id']}"]
        if action.declare.fact == "handover" and isinstance(fields.get("algorithm"), str):
            return [f"handover:{fields['algorithm']}"]
        return [f"derived:{action.declare.fact}"]
    if isinstance(action, ComputeAction):
        outputs = calculation_outputs(action.compute)
        return [f"derived:{t}" for t in outputs] or [f"derived:computed by {action.compute}"]
    return []


def _add_fact_node(g: nx.DiGraph, kb: KnowledgeBase, node: str) -> None:
    if node in g:
        return
    prefix, _, rest = node.partition(":")
    if prefix == "concept":
        concept = kb.concepts.get(rest)
        g.add_node(node, kind="concept", concept=rest,
                   concept_kind=concept.kind if concept else "",
                   text=concept.text if concept else "(not in the concept catalog)")
    elif prefix == "handover":
        title = kb.algorithms[rest].title if rest in kb.algorithms else ""
        g.add_node(node, kind="handover", algorithm=rest, title=title)
    elif prefix == "input":
        algorithm, _, fact_type = rest.partition(":")
        g.add_node(node, kind="input", fact_type=fact_type, algorithm=algorithm)
    else:
        g.add_node(node, kind="derived", fact_type=rest)


def rulebook_graph(kb: KnowledgeBase) -> nx.DiGraph:
    """The rulebook map of `kb` (see the module docstring)."""
    g = nx.DiGraph(kb_version=kb.version)
    for loaded in kb.rules:
        rule = loaded.rule
        node = rule_node(rule.id)
        g.add_node(node, kind="rule", rule=rule.id, algorithm=loaded.algorithm,
                   title=rule.title, branch=rule.branch or "", order=loaded.order,
                   salience=rule.salience,
                   conditions=[describe_pattern(p, neg) for c in rule.when
                               for p, neg in patterns(c)])
        for condition in rule.when:
            for p, negated in patterns(condition):
                for target in _read_targets(kb, loaded.algorithm, p):
                    _add_fact_node(g, kb, target)
                    if g.has_edge(target, node):
                        # read both plainly and under `not`: keep the plain reading
                        g.edges[target, node]["negated"] &= negated
                    else:
                        g.add_edge(target, node, kind="reads", negated=negated)
        for action in rule.then:
            for target in _declare_targets(action):
                _add_fact_node(g, kb, target)
                g.add_edge(node, target, kind="declares")
    return g


def _fact_matches(g: nx.DiGraph, node: str, fact: TraceFact) -> bool:
    data = g.nodes[node]
    kind = data["kind"]
    if kind == "concept":
        return fact.type == "conclusion" and fact.content.get("id") == data["concept"]
    if kind == "handover":
        return fact.type == "handover" and fact.content.get("algorithm") == data["algorithm"]
    return bool(fact.type == data.get("fact_type"))


def overlay(g: nx.DiGraph, assessment: Assessment, kb: KnowledgeBase) -> nx.DiGraph:
    """A copy of the map with one assessment's path marked.

    Node and edge attribute `on_path`; rule nodes also get `fired` (the firing
    sequence numbers). An edge is on the path when one of the rule's firings
    matched (reads) or declared (declares) a fact of that node.
    """
    check_kb(assessment, kb)
    out: nx.DiGraph = g.copy()
    out.graph.update(case_id=str(assessment.case.get("case_id") or ""),
                     decision_id=assessment.decision_id)
    facts = {f.id: f for f in assessment.trace.facts}
    for _, data in out.nodes(data=True):
        data["on_path"] = False
        if data["kind"] == "rule":
            data["fired"] = []
    for _, _, data in out.edges(data=True):
        data["on_path"] = False
    for firing in assessment.trace.firings:
        node = rule_node(firing.rule)
        if node not in out:
            continue
        out.nodes[node]["on_path"] = True
        out.nodes[node]["fired"].append(firing.seq)
        for fid in firing.matched:
            for pred in out.predecessors(node):
                if _fact_matches(out, pred, facts[fid]):
                    out.nodes[pred]["on_path"] = True
                    out.edges[pred, node]["on_path"] = True
        for fid in firing.declared:
            for succ in out.successors(node):
                if _fact_matches(out, succ, facts[fid]):
                    out.nodes[succ]["on_path"] = True
                    out.edges[node, succ]["on_path"] = True
    return out

