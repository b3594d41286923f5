"""Draw the reasoning graph of one assessment as deterministic DOT.

Layout choices that keep a real case readable: left to right by reasoning step
(every firing of one step in one column, `newrank` so that columns hold across
clusters), one cluster per algorithm holding its firings and the facts they
derived, long texts folded into a few wrapped lines (the full text is in each
node's tooltip), and a legend.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from pumpdx.engine.assessment import Assessment
from pumpdx.kb.loader import KnowledgeBase
from pumpdx.kb.review_order import algorithm_order

from . import style
from .dot import BOX_MARK, DotEdge, DotNode, DotSpec, Html, copy_id, original_id
from .graph import conclusion_paths, fact_summary, path_class, reasoning_graph

TEXT_WIDTH = 34
FACT_WIDTH = 30
KIND_RANK = {"input": 0, "firing": 1, "derived": 2, "conclusion": 2, "citation": 3}


def reasoning_dot(assessment: Assessment, kb: KnowledgeBase | None = None) -> str:
    """The DOT source of the assessment's reasoning graph (same input, same bytes)."""
    return reasoning_spec(reasoning_graph(assessment, kb), kb).source()


def _singular(kind: str) -> str:
    return style.conclusion_look(kind).name.split(" (")[0].upper()


def _fact_label(data: dict[str, Any]) -> tuple[Html, str]:
    lines = [line for item in fact_summary(data["fact_type"], data["content"])
             for line in style.fold(item, FACT_WIDTH, 2)]
    shown = lines[:6]
    if len(lines) > 6:
        shown[-1] = f"\u2026 {len(lines) - 5} more lines (tooltip)"
    title = f"#{data['fact_id']} {data['fact_type']}"
    tooltip = "\n".join([title, *fact_summary(data["fact_type"], data["content"])])
    return style.html_label(title, shown), tooltip


def _conclusion_label(data: dict[str, Any]) -> tuple[Html, str]:
    look = style.conclusion_look(data["concept_kind"])
    text = data["text"] or data["concept"]
    note = [f"#{data['fact_id']} {data['concept']}"]
    if data.get("needs"):
        note.append(f"needs: {data['needs']}")
    label = style.html_label(_singular(data["concept_kind"]), style.fold(text, TEXT_WIDTH, 4),
                             note=note, title_color=look.border)
    tooltip = "\n".join([f"{look.name}: {data['concept']}", text,
                         *([f"needs: {data['needs']}"] if data.get("needs") else [])])
    return label, tooltip


def _firing_label(data: dict[str, Any]) -> tuple[Html, str]:
    title = f"#{data['seq']} {data['rule']}"
    lines = style.fold(data["title"], TEXT_WIDTH, 3) if data["title"] else []
    note = [f"step {data['step']}"]
    if data.get("branch"):
        note = [*style.fold(data["branch"], TEXT_WIDTH + 4, 2), *note]
    tooltip = "\n".join(x for x in (f"firing {data['seq']}: rule {data['rule']}",
                                    data["title"], f"algorithm {data['algorithm']}",
                                    data.get("branch", "")) if x)
    return style.html_label(title, lines, note=note), tooltip


def _citation_label(data: dict[str, Any]) -> tuple[Html, str]:
    lines: list[str] = []
    if data.get("section_title"):
        lines += style.fold(f"\u00a7{data['section']} {data['section_title']}", TEXT_WIDTH, 2)
    if data.get("figure_title"):
        lines += style.fold(f"Fig. {data['figure']} {data['figure_title']}", TEXT_WIDTH, 2)
    title_lines = style.fold(data["label"], TEXT_WIDTH + 6, 3)
    label = style.html_label(title_lines[0], [*title_lines[1:], *lines])
    return label, "\n".join([data["label"], *lines])


def node_look(data: dict[str, Any]) -> style.Look:
    kind = data["kind"]
    if kind == "conclusion":
        return style.conclusion_look(data["concept_kind"])
    return {"input": style.INPUT, "derived": style.DERIVED, "firing": style.FIRING,
            "citation": style.CITATION}[kind]


def _label(data: dict[str, Any]) -> tuple[Html, str]:
    kind = data["kind"]
    if kind == "conclusion":
        return _conclusion_label(data)
    if kind == "firing":
        return _firing_label(data)
    if kind == "citation":
        return _citation_label(data)
    return _fact_label(data)


def _node_key(node: str, data: dict[str, Any]) -> tuple[object, ...]:
    kind = data["kind"]
    if kind == "firing":
        return (KIND_RANK[kind], data["seq"], "")
    if kind == "citation":
        return (KIND_RANK[kind], 0, data["label"])
    return (KIND_RANK[kind], data["fact_id"], "")


def reasoning_spec(g: nx.DiGraph, kb: KnowledgeBase | None = None) -> DotSpec:
    """The DotSpec of a reasoning graph made by `reasoning_graph`."""
    firings = {d["seq"]: d for _, d in g.nodes(data=True) if d["kind"] == "firing"}
    algorithm_of_firing = {seq: d["algorithm"] for seq, d in firings.items()}
    first_seq: dict[str, int] = {}
    for seq in sorted(firings):
        first_seq.setdefault(algorithm_of_firing[seq], seq)

    title = [f"Reasoning of assessment {g.graph['decision_id']}"
             + (f" \u2014 case {g.graph['case_id']}" if g.graph.get("case_id") else "")]
    n_facts = sum(1 for _, d in g.nodes(data=True) if d["kind"] in ("input", "derived",
                                                                     "conclusion"))
    note = [f"knowledge base {g.graph['kb_version']} \u00b7 {len(firings)} firings, "
            f"{n_facts} facts \u00b7 columns are reasoning steps, boxes are algorithms"]
    spec = DotSpec(
        name="reasoning",
        graph={"rankdir": "LR", "newrank": "true", "nodesep": "0.18", "ranksep": "0.45",
               "fontname": style.FONT, "fontsize": "16", "labelloc": "t",
               "labeljust": "l", "label": style.html_label(title[0], note=note),
               "tooltip": f"{g.graph['decision_id']} {g.graph['kb_version']}",
               "pad": "0.3", "bgcolor": "white"},
        node_defaults={"fontname": style.FONT, "fontsize": "10", "margin": "0.10,0.05"},
        edge_defaults={"fontname": style.FONT, "fontsize": "9", "arrowsize": "0.7"},
    )
    review_rank = {a: i for i, a in enumerate(algorithm_order(kb))} if kb is not None else {}
    for algorithm, seq in first_seq.items():
        title_text = ""
        if kb is not None and algorithm in kb.algorithms:
            title_text = kb.algorithms[algorithm].title
        spec.clusters[algorithm or "unassigned"] = {
            "label": style.cluster_label(title_text, algorithm or "rules without an algorithm"),
            "style": "rounded,filled", "fillcolor": "#fbfbf8", "color": "#b8b8b0",
            "labeljust": "l", "fontname": style.FONT, "fontsize": "11", "margin": "10"}
        spec.cluster_keys[algorithm or "unassigned"] = (
            review_rank.get(algorithm, len(review_rank)), seq)

    box: dict[str, str | None] = {}
    for node in sorted(g.nodes):
        data = g.nodes[node]
        if data["kind"] == "firing":
            box[node] = data["algorithm"] or "unassigned"
        elif data["kind"] in ("derived", "conclusion") and data.get("derived_by") in firings:
            box[node] = algorithm_of_firing[data["derived_by"]] or "unassigned"
        else:
            box[node] = None

    drawn: set[str] = set()
    for tail, head, data in sorted(g.edges(data=True)):
        if data["kind"] == "cites":
            drawn.add(copy_id(head, box[tail]))
    # the nodes and edges of each conclusion's path carry its class (report filter)
    paths = conclusion_paths(g)
    classes: dict[str, set[str]] = {}
    edge_classes: dict[tuple[str, str], set[str]] = {}
    for concept, members in paths.items():
        cls = path_class(concept)
        for tail, head, data in g.edges(data=True):
            if tail in members and head in members:
                if data["kind"] == "cites":
                    head = copy_id(head, box[tail])
                    classes.setdefault(head, set()).add(cls)
                edge_classes.setdefault((tail, head), set()).add(cls)
        for node in members:
            if g.nodes[node]["kind"] != "citation":
                classes.setdefault(node, set()).add(cls)
    for node in sorted(g.nodes):
        data = g.nodes[node]
        label, tooltip = _label(data)
        node_attrs = {**node_look(data).attrs(), "label": label, "tooltip": tooltip}
        if data["kind"] == "firing":
            node_attrs["href"] = f"#firing-{data['seq']}"
        if data["kind"] != "citation":
            if classes.get(node):
                node_attrs["class"] = " ".join(sorted(classes[node]))
            spec.nodes.append(DotNode(node, node_attrs, _node_key(node, data), box[node]))
            continue
        # One drawing per algorithm box that cites it keeps every citation edge
        # short; a citation read across the whole graph would tangle it.
        for dot_id in sorted(d for d in drawn if original_id(d) == node):
            cluster = dot_id[len(node) + len(BOX_MARK):] if dot_id != node else None
            copy_attrs = dict(node_attrs)
            if classes.get(dot_id):
                copy_attrs["class"] = " ".join(sorted(classes[dot_id]))
            spec.nodes.append(DotNode(dot_id, copy_attrs, _node_key(node, data), cluster))

    for tail, head, data in g.edges(data=True):
        kind = data["kind"]
        if kind == "cites":
            head = copy_id(head, box[tail])
        attrs: dict[str, str]
        if kind == "used":
            attrs = {"color": style.EDGE}
        elif kind == "declared":
            attrs = {"color": style.DECLARE_EDGE, "penwidth": "1.3"}
            if not data.get("first", True):
                attrs.update(style="dashed", constraint="false",
                             tooltip="declared again (the fact already existed)")
        else:
            attrs = {"color": style.CITE_EDGE, "style": "dotted", "arrowhead": "none"}
        order = {"used": 0, "declared": 1, "cites": 2}[kind]
        if edge_classes.get((tail, head)):
            attrs["class"] = " ".join(sorted(edge_classes[(tail, head)]))
        spec.edges.append(DotEdge(tail, head, attrs, (order,)))

    steps: dict[int, list[str]] = {}
    for seq, d in firings.items():
        steps.setdefault(d["step"], []).append(f"firing:{seq}")
    for step in sorted(steps):
        spec.ranks.append(("same", steps[step]))
    inputs = [n for n, d in g.nodes(data=True) if d["kind"] == "input"]
    spec.ranks.append(("min", inputs))

    looks = [style.INPUT, style.FIRING, style.DERIVED]
    present = {d.get("concept_kind") for _, d in g.nodes(data=True)}
    looks += [look for kind, look in style.CONCLUSION_LOOKS.items() if kind in present]
    looks.append(style.CITATION)
    legend = style.legend_label(looks, [
        (style.EDGE, "\u2192", "used: the firing matched this fact"),
        (style.DECLARE_EDGE, "\u2192", "declared: the firing added this fact"),
        (style.DECLARE_EDGE, "\u21e2", "declared again (fact existed already)"),
        (style.CITE_EDGE, "\u00b7\u00b7\u00b7", "cites: the source that says so")])
    spec.nodes.append(DotNode("legend", {"shape": "plaintext", "label": legend,
                                         "tooltip": "legend"}, (9, 0, ""), None))
    return spec
