"""The reasoning graph of one assessment, built from its recorded trace.

Nodes (attribute `kind`):
    input       a finding from the case that some rule matched
    derived     a fact a rule declared (handover, computed volume, ...)
    conclusion  a conclusion fact (attribute `concept_kind`: urgent_action, ...)
    firing      one rule firing of the trace (attributes `seq`, `rule`, `algorithm`)
    citation    a place in the review (or another source) that a fired rule or a
                drawn conclusion cites
Edges (attribute `kind`):
    used        fact -> firing: the firing matched the fact
    declared    firing -> fact: the firing declared it (`first` is False when the
                fact already existed and the firing declared it again)
    cites       firing -> citation (the rule's citations) and
                conclusion -> citation (the concept's citations, except those that
                every firing declaring the conclusion already cites)

Only what the trace records is drawn: every firing, every fact a firing matched
or declared, and their citations. Case findings that no rule matched are not in
the graph (the HTML report lists the whole case).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx

from pumpdx.engine.assessment import Assessment
from pumpdx.kb.loader import KnowledgeBase
from pumpdx.kb.schema import Citation


class KBMismatchError(ValueError):
    """The knowledge base given is not the one the assessment was made with."""


def fact_node(fact_id: int) -> str:
    return f"fact:{fact_id}"


def firing_node(seq: int) -> str:
    return f"firing:{seq}"


def citation_node(label: str) -> str:
    return f"cite:{label}"


@dataclass(frozen=True)
class CitationInfo:
    label: str
    source: str
    section: str | None
    figure: str | None
    section_title: str | None
    figure_title: str | None
    detail: str | None


def citation_info(c: Citation, kb: KnowledgeBase) -> CitationInfo:
    src = kb.sources.get(c.source)
    return CitationInfo(
        label=c.label(), source=c.source, section=c.section, figure=c.figure,
        section_title=src.sections.get(c.section) if src and c.section else None,
        figure_title=src.figures.get(c.figure) if src and c.figure else None,
        detail=c.detail)


def _plain_citation(label: str) -> CitationInfo:
    return CitationInfo(label, "", None, None, None, None, None)


def check_kb(assessment: Assessment, kb: KnowledgeBase | None) -> KnowledgeBase | None:
    if kb is not None and kb.version != assessment.kb_version:
        raise KBMismatchError(
            f"the assessment was made with knowledge base {assessment.kb_version}, "
            f"not with {kb.version}")
    return kb


def firing_steps(assessment: Assessment) -> dict[int, int]:
    """Step of each firing: 1 + the latest step that derived a fact it matched.

    Firings on case findings only are step 1; a firing on a fact derived at step
    k is step k + 1. Ranking by step lays the graph out as a chain of reasoning.
    """
    trace = assessment.trace
    derived_by = {f.id: f.derived_by for f in trace.facts}
    steps: dict[int, int] = {}
    for firing in sorted(trace.firings, key=lambda f: f.seq):
        before = [steps.get(derived_by.get(fid) or 0, 0) for fid in firing.matched]
        steps[firing.seq] = 1 + max(before, default=0)
    return steps


def reasoning_graph(assessment: Assessment, kb: KnowledgeBase | None = None) -> nx.DiGraph:
    """The DiGraph of the assessment's trace (see the module docstring).

    With `kb` (the one the assessment was made with) firings carry the rule title
    and cite the rule's citations, and conclusions cite their concept's; without
    it, conclusions cite what the assessment lists and firings carry no title.
    """
    kb = check_kb(assessment, kb)
    trace = assessment.trace
    g = nx.DiGraph(decision_id=assessment.decision_id, kb_version=assessment.kb_version,
                   case_id=str(assessment.case.get("case_id") or ""))
    facts = {f.id: f for f in trace.facts}
    steps = firing_steps(assessment)
    involved = sorted({fid for f in trace.firings for fid in (*f.matched, *f.declared)})
    texts = {c.id: c.text for c in assessment.conclusions}
    texts.update({q.id: q.text for q in assessment.questions})
    listed_cites: dict[str, list[str]] = {c.id: c.citations for c in assessment.conclusions}
    listed_cites.update({q.id: q.citations for q in assessment.questions})

    for fid in involved:
        fact = facts[fid]
        attrs: dict[str, Any] = {"fact_id": fid, "fact_type": fact.type,
                                 "content": dict(fact.content), "derived_by": fact.derived_by,
                                 "step": steps.get(fact.derived_by or 0, 0)}
        if fact.type == "conclusion" and fact.origin == "derived":
            concept_id = str(fact.content.get("id", ""))
            concept = kb.concepts.get(concept_id) if kb else None
            attrs.update(kind="conclusion", concept=concept_id,
                         concept_kind=concept.kind if concept else str(
                             fact.content.get("kind", "")),
                         text=concept.text if concept else texts.get(concept_id, ""),
                         needs=(concept.needs or "") if concept else "")
        else:
            attrs["kind"] = fact.origin
        g.add_node(fact_node(fid), **attrs)

    def add_citation(info: CitationInfo) -> str:
        node = citation_node(info.label)
        if node not in g:
            g.add_node(node, kind="citation", **info.__dict__)
        return node

    for firing in trace.firings:
        node = firing_node(firing.seq)
        loaded = _rule(kb, firing.rule)
        g.add_node(node, kind="firing", seq=firing.seq, rule=firing.rule,
                   algorithm=firing.algorithm, step=steps[firing.seq],
                   title=loaded.rule.title if loaded else "",
                   branch=(loaded.rule.branch or "") if loaded else "")
        for fid in firing.matched:
            g.add_edge(fact_node(fid), node, kind="used")
        for fid in firing.declared:
            g.add_edge(node, fact_node(fid), kind="declared",
                       first=facts[fid].derived_by == firing.seq)
        if kb is not None and loaded is not None:
            for c in loaded.rule.cite:
                g.add_edge(node, add_citation(citation_info(c, kb)), kind="cites")

    for node, data in list(g.nodes(data=True)):
        if data["kind"] != "conclusion":
            continue
        concept = kb.concepts.get(data["concept"]) if kb else None
        if concept is not None and kb is not None:
            infos = [citation_info(c, kb) for c in concept.cite]
        else:
            infos = [_plain_citation(label) for label in listed_cites.get(data["concept"], [])]
        cited_by_each = [{c for c in g.successors(p) if g.nodes[c]["kind"] == "citation"}
                         for p in g.predecessors(node) if g.nodes[p]["kind"] == "firing"]
        by_firings = set.intersection(*cited_by_each) if cited_by_each else set()
        for info in infos:
            if citation_node(info.label) not in by_firings:
                g.add_edge(node, add_citation(info), kind="cites")
    return g


def _rule(kb: KnowledgeBase | None, rule_id: str) -> Any:
    if kb is None:
        return None
    try:
        return kb.rule(rule_id)
    except KeyError:
        return None


def fact_summary(fact_type: str, content: dict[str, Any]) -> list[str]:
    """The fact's fields as 'name: value' lines, in the order the engine recorded them."""
    return [f"{k}: {format_value(v)}" for k, v in content.items() if v is not None]


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v) for v in value)
    return str(value)


def conclusion_paths(g: nx.DiGraph) -> dict[str, set[str]]:
    """For each conclusion drawn (by concept id): the nodes of its path, i.e. the
    conclusion, every firing and fact it was derived from (transitively), and the
    citations of those firings and of the conclusion."""
    out: dict[str, set[str]] = {}
    for node, data in g.nodes(data=True):
        if data["kind"] != "conclusion":
            continue
        path = {node} | {n for n in nx.ancestors(g, node) if g.nodes[n]["kind"] != "citation"}
        path |= {c for n in list(path) for c in g.successors(n)
                 if g.nodes[c]["kind"] == "citation"}
        out.setdefault(data["concept"], set()).update(path)
    return out


def path_class(concept: str) -> str:
    """The CSS class marking the nodes and edges of one conclusion's path in the SVG."""
    return "path_" + "".join(ch if ch.isalnum() else "_" for ch in concept)
