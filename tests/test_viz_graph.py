"""The reasoning graph shows every firing of the trace and nothing else."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

from pumpdx.engine.assess import Assessor
from pumpdx.engine.assessment import Assessment
from pumpdx.engine.inputs import load_case
from pumpdx.engine.trace import Firing, Trace, TraceFact
from pumpdx.kb.loader import KnowledgeBase
from pumpdx.viz.dot import original_id
from pumpdx.viz.graph import (
    KBMismatchError,
    citation_node,
    fact_node,
    firing_node,
    firing_steps,
    reasoning_graph,
)
from pumpdx.viz.reasoning_dot import reasoning_dot

from .conftest import CASES_DIR, REPO

CASES = sorted(CASES_DIR.glob("*.yaml"))
NODE_LINE = re.compile(r'^\s+"((?:[^"\\]|\\.)*)" \[', re.M)
EDGE_LINE = re.compile(r'^\s+"((?:[^"\\]|\\.)*)" -> "((?:[^"\\]|\\.)*)"', re.M)


def dot_nodes(dot: str) -> set[str]:
    return set(NODE_LINE.findall(dot))


def dot_edges(dot: str) -> list[tuple[str, str]]:
    return EDGE_LINE.findall(dot)


@pytest.fixture(scope="module")
def assessments(assessor: Assessor) -> dict[str, Assessment]:
    return {p.stem: assessor.assess(load_case(str(p))) for p in CASES}


def by_kind(g: nx.DiGraph, *kinds: str) -> set[str]:
    return {n for n, d in g.nodes(data=True) if d["kind"] in kinds}


def edges_of(g: nx.DiGraph, kind: str) -> set[tuple[str, str]]:
    return {(u, v) for u, v, d in g.edges(data=True) if d["kind"] == kind}


@pytest.mark.parametrize("case", [p.stem for p in CASES])
def test_graph_nodes_and_edges_are_the_trace(case: str, assessments: dict[str, Assessment],
                                              kb: KnowledgeBase) -> None:
    a = assessments[case]
    g = reasoning_graph(a, kb)
    trace = a.trace
    assert trace.firings, "every bundled case fires at least one rule"

    assert by_kind(g, "firing") == {firing_node(f.seq) for f in trace.firings}
    for f in trace.firings:
        data = g.nodes[firing_node(f.seq)]
        assert (data["rule"], data["algorithm"]) == (f.rule, f.algorithm)
        assert data["title"] == kb.rule(f.rule).rule.title

    involved = {fid for f in trace.firings for fid in (*f.matched, *f.declared)}
    assert by_kind(g, "input", "derived", "conclusion") == {fact_node(i) for i in involved}
    for fid in involved:
        fact = trace.fact(fid)
        kind = g.nodes[fact_node(fid)]["kind"]
        assert kind == ("conclusion" if fact.type == "conclusion" else fact.origin)

    assert edges_of(g, "used") == {(fact_node(i), firing_node(f.seq))
                                   for f in trace.firings for i in f.matched}
    assert edges_of(g, "declared") == {(firing_node(f.seq), fact_node(i))
                                       for f in trace.firings for i in f.declared}
    assert set(g.nodes) == by_kind(g, "firing", "input", "derived", "conclusion", "citation")

    # every conclusion and open question of the assessment is a node, with its kind
    concluded = {(d["concept"], d["concept_kind"]) for _, d in g.nodes(data=True)
                 if d["kind"] == "conclusion"}
    assert {(c.id, c.kind) for c in a.conclusions} | {(q.id, "question")
                                                      for q in a.questions} == concluded


@pytest.mark.parametrize("case", [p.stem for p in CASES])
def test_citations_are_the_rules_and_concepts(case: str, assessments: dict[str, Assessment],
                                              kb: KnowledgeBase) -> None:
    a = assessments[case]
    g = reasoning_graph(a, kb)
    for f in a.trace.firings:
        cited = {v for v in g.successors(firing_node(f.seq))
                 if g.nodes[v]["kind"] == "citation"}
        assert cited == {citation_node(c.label()) for c in kb.rule(f.rule).rule.cite}
    for node in by_kind(g, "conclusion"):
        concept = kb.concepts[g.nodes[node]["concept"]]
        own = {v for v in g.successors(node) if g.nodes[v]["kind"] == "citation"}
        by_rules = set.intersection(*({v for v in g.successors(p)
                                       if g.nodes[v]["kind"] == "citation"}
                                      for p in g.predecessors(node)))
        # the concept's citations, drawn on the conclusion unless its firings cite them
        assert own | by_rules >= {citation_node(c.label()) for c in concept.cite}
        assert own <= {citation_node(c.label()) for c in concept.cite}
    for node in by_kind(g, "citation"):
        assert g.in_degree(node) >= 1 and g.out_degree(node) == 0
        assert all(d["kind"] == "cites" for _, _, d in g.in_edges(node, data=True))


@pytest.mark.parametrize("case", [p.stem for p in CASES])
def test_dot_draws_exactly_the_graph(case: str, assessments: dict[str, Assessment],
                                     kb: KnowledgeBase) -> None:
    a = assessments[case]
    g = reasoning_graph(a, kb)
    dot = reasoning_dot(a, kb)
    drawn = dot_nodes(dot) - {"legend"}
    assert {original_id(n) for n in drawn} == set(g.nodes)
    edges = [(original_id(u), original_id(v)) for u, v in dot_edges(dot)]
    assert sorted(edges) == sorted(g.edges), "every edge drawn exactly once"
    # a firing node is labelled with its sequence number and rule id
    for f in a.trace.firings:
        assert f"#{f.seq} {f.rule}" in dot
    assert a.decision_id in dot and a.kb_version in dot
    # one box per algorithm that fired
    boxes = set(re.findall(r'subgraph "cluster_([^"]+)"', dot))
    assert boxes == {f.algorithm or "unassigned" for f in a.trace.firings}


def test_long_texts_are_folded(assessments: dict[str, Assessment], kb: KnowledgeBase) -> None:
    for a in assessments.values():
        node_lines = [line for line in reasoning_dot(a, kb).splitlines()
                      if NODE_LINE.match(line) and not line.strip().startswith('"legend"')]
        assert len(node_lines) > len(a.trace.firings)
        for node_line in node_lines:
            label = re.search(r"label=<(.*?)>[,\]]", node_line)
            assert label, node_line
            for line in re.split(r"<BR[^>]*>", label.group(1)):
                text = html.unescape(re.sub(r"<[^>]+>", "", line))
                assert len(text) <= 50, text


def test_same_assessment_same_dot(assessments: dict[str, Assessment], kb: KnowledgeBase) -> None:
    for a in assessments.values():
        assert reasoning_dot(a, kb) == reasoning_dot(a, kb)


def test_dot_does_not_depend_on_hash_seed(assessments: dict[str, Assessment],
                                          kb: KnowledgeBase, tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from pumpdx.engine.assess import default_assessor\n"
        "from pumpdx.engine.inputs import load_case\n"
        "from pumpdx.viz.reasoning_dot import reasoning_dot\n"
        "a = default_assessor()\n"
        "for p in sys.argv[1:]:\n"
        "    sys.stdout.write(reasoning_dot(a.assess(load_case(p)), a.kb))\n")
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    out = subprocess.run([sys.executable, "-c", script, *map(str, CASES)], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert out == "".join(reasoning_dot(assessments[p.stem], kb) for p in CASES)


def test_without_kb_the_graph_still_holds_the_trace(assessments: dict[str, Assessment]) -> None:
    for a in assessments.values():
        g = reasoning_graph(a)
        assert by_kind(g, "firing") == {firing_node(f.seq) for f in a.trace.firings}
        for c in a.conclusions:
            node = next(n for n, d in g.nodes(data=True) if d.get("concept") == c.id)
            cited = {v for v in g.successors(node) if g.nodes[v]["kind"] == "citation"}
            assert cited == {citation_node(x) for x in c.citations}


def test_other_knowledge_base_is_refused(assessments: dict[str, Assessment],
                                         kb: KnowledgeBase) -> None:
    a = next(iter(assessments.values()))
    other = a.model_copy(update={"kb_version": "kb-000000000000"})
    with pytest.raises(KBMismatchError, match="kb-000000000000"):
        reasoning_graph(other, kb)


def _chain_assessment() -> Assessment:
    """A hand-made trace: two findings, a chain of derived facts, a re-declaration."""
    facts = [TraceFact(id=1, type="presentation", content={"kind": "overdose"}, origin="input"),
             TraceFact(id=2, type="pump", content={"model": "x"}, origin="input"),
             TraceFact(id=3, type="handover", content={"algorithm": "b"}, origin="derived",
                       derived_by=1),
             TraceFact(id=4, type="conclusion", content={"id": "c1", "kind": "warning"},
                       origin="derived", derived_by=2),
             TraceFact(id=5, type="conclusion", content={"id": "c2", "kind": "question"},
                       origin="derived", derived_by=3)]
    firings = [Firing(seq=1, rule="r1", algorithm="a", matched=[1], declared=[3]),
               Firing(seq=2, rule="r2", algorithm="b", matched=[3, 2], declared=[4]),
               Firing(seq=3, rule="r3", algorithm="b", matched=[4], declared=[5]),
               Firing(seq=4, rule="r4", algorithm="a", matched=[2], declared=[5])]
    return Assessment(decision_id="dx-test", kb_version="kb-test", engine={}, case={},
                      conclusions=[], questions=[], conflicts=[],
                      trace=Trace(facts=facts, firings=firings))


def test_steps_follow_the_chain_of_reasoning() -> None:
    a = _chain_assessment()
    assert firing_steps(a) == {1: 1, 2: 2, 3: 3, 4: 1}
    g = reasoning_graph(a)
    assert g.edges[firing_node(3), fact_node(5)]["first"] is True
    assert g.edges[firing_node(4), fact_node(5)]["first"] is False
    dot = reasoning_dot(a)
    again = re.search(r'"firing:4" -> "fact:5" \[([^\]]*)\]', dot)
    assert again and 'constraint="false"' in again.group(1)
    assert '{ rank=same; "firing:1" "firing:4"; }' in dot
    assert '{ rank=same; "firing:3"; }' in dot
