"""The rulebook map holds every rule and links the algorithms as the review's figures do."""

from __future__ import annotations

import re

import networkx as nx
import pytest

from pumpdx.engine.assess import Assessor
from pumpdx.engine.assessment import Assessment
from pumpdx.engine.inputs import load_case
from pumpdx.kb.loader import KnowledgeBase
from pumpdx.kb.schema import ConcludeAction, HandoverAction
from pumpdx.viz import style
from pumpdx.viz.dot import original_id
from pumpdx.viz.rulebook import (
    calculation_outputs,
    overlay,
    patterns,
    rule_node,
    rulebook_graph,
)
from pumpdx.viz.rulebook_dot import rulebook_dot

from .conftest import CASES_DIR
from .test_viz_graph import dot_edges, dot_nodes

CASES = sorted(CASES_DIR.glob("*.yaml"))


@pytest.fixture(scope="module")
def rulebook(kb: KnowledgeBase) -> nx.DiGraph:
    return rulebook_graph(kb)


@pytest.fixture(scope="module")
def assessments(assessor: Assessor) -> dict[str, Assessment]:
    return {p.stem: assessor.assess(load_case(str(p))) for p in CASES}


def test_every_rule_is_in_its_algorithm(kb: KnowledgeBase, rulebook: nx.DiGraph) -> None:
    rules = {n: d for n, d in rulebook.nodes(data=True) if d["kind"] == "rule"}
    assert set(rules) == {rule_node(r.rule.id) for r in kb.rules}
    for r in kb.rules:
        assert rules[rule_node(r.rule.id)]["algorithm"] == r.algorithm


def test_conclusions_and_handovers_link_rules(kb: KnowledgeBase, rulebook: nx.DiGraph) -> None:
    for r in kb.rules:
        node = rule_node(r.rule.id)
        for action in r.rule.then:
            if isinstance(action, ConcludeAction):
                assert rulebook.has_edge(node, f"concept:{action.conclude}")
            if isinstance(action, HandoverAction):
                assert rulebook.has_edge(node, f"handover:{action.handover}")
        for condition in r.rule.when:
            for p, negated in patterns(condition):
                wanted = p.where.get("id") if p.fact == "conclusion" else None
                if isinstance(wanted, str) and not wanted.startswith("$"):
                    edge = rulebook.edges[f"concept:{wanted}", node]
                    assert edge["kind"] == "reads"
                    assert edge["negated"] or not negated
                algorithm = p.where.get("algorithm") if p.fact == "handover" else None
                if isinstance(algorithm, str):
                    assert rulebook.has_edge(f"handover:{algorithm}", node)


def test_handovers_lead_into_the_algorithms_of_the_figures(kb: KnowledgeBase,
                                                          rulebook: nx.DiGraph) -> None:
    """Fig. 11 (overdose/withdrawal), Fig. 8 (loss of therapy), Fig. 10 (catheter):
    each algorithm that is handed over to is entered by its own rules."""
    handovers = [n for n, d in rulebook.nodes(data=True) if d["kind"] == "handover"]
    assert {f"handover:{a}" for a in ("overdose_withdrawal", "loss_of_therapy",
                                      "catheter_evaluation")} <= set(handovers)
    for node in handovers:
        target = rulebook.nodes[node]["algorithm"]
        readers = {rulebook.nodes[r]["algorithm"] for r in rulebook.successors(node)}
        assert target in readers, f"no rule of {target} reads {node}"
        assert any(rulebook.nodes[p]["kind"] == "rule" for p in rulebook.predecessors(node))


def test_computed_facts_are_linked_to_their_readers(kb: KnowledgeBase,
                                                   rulebook: nx.DiGraph) -> None:
    assert calculation_outputs("reservoir_discrepancy") == ("volume_discrepancy",)
    producers = set(rulebook.predecessors("derived:volume_discrepancy"))
    readers = set(rulebook.successors("derived:volume_discrepancy"))
    assert producers and readers
    assert all(rulebook.nodes[n]["kind"] == "rule" for n in producers | readers)


def test_map_dot_draws_every_node_and_edge(kb: KnowledgeBase, rulebook: nx.DiGraph) -> None:
    dot = rulebook_dot(kb)
    assert dot == rulebook_dot(kb)
    drawn = dot_nodes(dot) - {"legend"}
    assert {original_id(n) for n in drawn} == set(rulebook.nodes)
    edges = [(original_id(u), original_id(v)) for u, v in dot_edges(dot)]
    assert sorted(edges) == sorted(rulebook.edges), "every link drawn exactly once"
    boxes = set(re.findall(r'subgraph "cluster_([^"]+)"', dot))
    assert boxes == set(kb.algorithms)
    assert kb.version in dot


@pytest.mark.parametrize("case", [p.stem for p in CASES])
def test_overlay_marks_exactly_the_fired_rules(case: str, kb: KnowledgeBase,
                                               rulebook: nx.DiGraph,
                                               assessments: dict[str, Assessment]) -> None:
    a = assessments[case]
    g = overlay(rulebook, a, kb)
    fired = {f.rule for f in a.trace.firings}
    on_path = {d["rule"] for _, d in g.nodes(data=True) if d["kind"] == "rule" and d["on_path"]}
    assert on_path == fired
    for f in a.trace.firings:
        assert f.seq in g.nodes[rule_node(f.rule)]["fired"]
    # every conclusion drawn is on the path, with the edge from a rule that drew it
    for c in a.conclusions:
        node = f"concept:{c.id}"
        assert g.nodes[node]["on_path"]
        assert {rule_node(r) for r in c.rules} & {
            u for u, _, d in g.in_edges(node, data=True) if d["on_path"]}
    # the map itself is not changed by an overlay
    assert not any("on_path" in d for _, d in rulebook.nodes(data=True))

    lines = {m.group(1): m.group(0) for m in re.finditer(
        r'^\s+"(rule:[^"]+)" \[.*$', rulebook_dot(kb, a), re.M)}
    assert set(lines) == {rule_node(r.rule.id) for r in kb.rules}
    for r in kb.rules:
        faded = f'color="{style.FADED}"' in lines[rule_node(r.rule.id)]
        assert faded == (r.rule.id not in fired), r.rule.id
