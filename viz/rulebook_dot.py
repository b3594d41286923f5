"""Draw the rulebook map (optionally with one case's path) as deterministic DOT.

One box per algorithm holds its rules, the case facts its rules read and the
conclusions and facts only its rules draw; hand-overs and conclusions shared by
several algorithms sit between the boxes. With an overlay, the case's fired
rules and their facts are drawn strongly and everything else faded.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from pumpdx.engine.assessment import Assessment
from pumpdx.kb.loader import KnowledgeBase
from pumpdx.kb.review_order import algorithm_order

from . import style
from .dot import DotEdge, DotNode, DotSpec, Html, copy_id
from .rulebook import overlay, rulebook_graph

TEXT_WIDTH = 34
NEGATED_EDGE = "#b3261e"
KIND_KEY = {"input": 0, "rule": 1, "derived": 2, "handover": 2, "concept": 3}


def rulebook_dot(kb: KnowledgeBase, assessment: Assessment | None = None) -> str:
    """DOT of the rulebook map; with `assessment`, its path highlighted, the rest faded."""
    g = rulebook_graph(kb)
    if assessment is not None:
        g = overlay(g, assessment, kb)
    return rulebook_spec(g, kb, overlaid=assessment is not None).source()


def _look(data: dict[str, Any]) -> style.Look:
    kind = data["kind"]
    if kind == "concept":
        return style.conclusion_look(data["concept_kind"])
    return {"rule": style.FIRING, "input": style.FACT_TYPE, "derived": style.DERIVED,
            "handover": style.HANDOVER}[kind]


def _label(data: dict[str, Any], faded: bool) -> tuple[Html, str]:
    kind = data["kind"]
    if kind == "rule":
        note = style.fold(data["branch"], TEXT_WIDTH + 4, 2) if data["branch"] else []
        if data.get("fired"):
            note.append("fired: " + ", ".join(f"#{s}" for s in data["fired"]))
        tooltip = "\n".join([f"rule {data['rule']} ({data['algorithm']})", data["title"],
                             *(["when: " + "; ".join(data["conditions"])]
                               if data["conditions"] else []),
                             *([data["branch"]] if data["branch"] else [])])
        return style.html_label(data["rule"], style.fold(data["title"], TEXT_WIDTH, 2),
                                note=note, faded=faded), tooltip
    if kind == "concept":
        look = style.conclusion_look(data["concept_kind"])
        heading = look.name.split(" (")[0].upper()
        return style.html_label(heading, style.fold(data["text"], TEXT_WIDTH, 3),
                                note=[data["concept"]], title_color=look.border,
                                faded=faded), f"{data['concept']}: {data['text']}"
    if kind == "handover":
        lines = style.fold(data["title"], TEXT_WIDTH, 2) if data["title"] else []
        return style.html_label(f"hand over to {data['algorithm']}", lines, faded=faded), \
            f"handover to {data['algorithm']}"
    if kind == "input":
        return style.html_label(f"case: {data['fact_type']}", faded=faded), \
            f"case fact {data['fact_type']} (read in {data['algorithm']})"
    return style.html_label(data["fact_type"], ["(derived fact)"], faded=faded), \
        f"derived fact {data['fact_type']}"


def _homes(g: nx.DiGraph, node: str, boxes: set[str]) -> list[str]:
    """The algorithm boxes a node is drawn in ([] to draw it once, between the boxes).

    Rules and the case facts they read sit in their algorithm's box; a hand-over
    in the box of the algorithm it enters; a conclusion or derived fact in every
    box whose rules draw it (or, when no rule draws it, every box that reads it).
    """
    data = g.nodes[node]
    if data["kind"] in ("rule", "input"):
        found = {str(data["algorithm"])}
    elif data["kind"] == "handover":
        found = {str(data["algorithm"])}
    else:
        found = {str(g.nodes[p]["algorithm"]) for p in g.predecessors(node)} or {
            str(g.nodes[s]["algorithm"]) for s in g.successors(node)}
    return sorted(found & boxes)


def rulebook_spec(g: nx.DiGraph, kb: KnowledgeBase, overlaid: bool = False) -> DotSpec:
    """The DotSpec of a map made by `rulebook_graph` (and `overlay` when `overlaid`)."""
    n_rules = sum(1 for _, d in g.nodes(data=True) if d["kind"] == "rule")
    title = f"Rulebook map \u2014 knowledge base {g.graph['kb_version']}"
    note = [f"{n_rules} rules in {len(kb.algorithms)} algorithms \u00b7 boxes are the "
            f"algorithms of the review (figures 8, 10, 11 and steps 1-7)"]
    if overlaid:
        fired = sum(1 for _, d in g.nodes(data=True) if d["kind"] == "rule" and d["on_path"])
        case = g.graph.get("case_id") or "(no case id)"
        note.append(f"path of case {case}, assessment {g.graph['decision_id']}: "
                    f"{fired} of {n_rules} rules fired (strong); the rest is faded")
    spec = DotSpec(
        name="rulebook",
        graph={"rankdir": "LR", "nodesep": "0.15", "ranksep": "0.5", "fontname": style.FONT,
               "fontsize": "16", "labelloc": "t", "labeljust": "l", "pad": "0.3",
               "label": style.html_label(title, note=note), "bgcolor": "white",
               "tooltip": title},
        node_defaults={"fontname": style.FONT, "fontsize": "10", "margin": "0.10,0.05"},
        edge_defaults={"fontname": style.FONT, "fontsize": "9", "arrowsize": "0.7"},
    )
    order = {a: i for i, a in enumerate(algorithm_order(kb))}
    for algorithm, info in kb.algorithms.items():
        spec.clusters[algorithm] = {
            "label": style.cluster_label(info.title, algorithm),
            "style": "rounded,filled", "fillcolor": "#fbfbf8", "color": "#b8b8b0",
            "labeljust": "l", "fontname": style.FONT, "fontsize": "11", "margin": "10"}
        spec.cluster_keys[algorithm] = (order[algorithm],)

    homes = {node: _homes(g, node, set(spec.clusters)) for node in g.nodes}

    def drawn(node: str, box: str | None) -> str:
        """The drawing of `node` in `box` if it has one there, else its first drawing."""
        places = homes[node]
        if len(places) <= 1:
            return node
        return copy_id(node, box if box in places else places[0])

    for node in sorted(g.nodes):
        data = g.nodes[node]
        faded = overlaid and not data["on_path"]
        label, tooltip = _label(data, faded)
        attrs = {**_look(data).attrs(), "label": label, "tooltip": tooltip}
        if faded:
            attrs.update(fillcolor="#ffffff", color=style.FADED, penwidth="1")
        elif overlaid:
            attrs["penwidth"] = "2.6"
        key: tuple[object, ...] = (KIND_KEY[data["kind"]], data.get("order", 0), node)
        places = homes[node]
        if len(places) <= 1:
            spec.nodes.append(DotNode(node, attrs, key, places[0] if places else None))
        else:
            spec.nodes += [DotNode(copy_id(node, box), attrs, key, box) for box in places]

    for tail, head, data in g.edges(data=True):
        rule, other = (tail, head) if g.nodes[tail]["kind"] == "rule" else (head, tail)
        box = str(g.nodes[rule]["algorithm"])
        tail_id, head_id = (drawn(tail, box), drawn(head, box))
        if data["kind"] == "reads" and data["negated"]:
            edge = {"color": NEGATED_EDGE, "style": "dashed", "arrowhead": "tee",
                    "tooltip": "read under not: the rule needs this to be absent"}
        elif data["kind"] == "reads":
            edge = {"color": style.EDGE}
        else:
            edge = {"color": style.DECLARE_EDGE}
        if box not in homes[other]:
            # Links between algorithms do not rank the nodes: each box keeps its own
            # left-to-right flow and the boxes never overlap.
            edge["constraint"] = "false"
        if overlaid and not data["on_path"]:
            edge.update(color=style.FADED, penwidth="0.8")
        elif overlaid:
            edge["penwidth"] = "2.4"
        spec.edges.append(DotEdge(tail_id, head_id, edge,
                                  (0 if data["kind"] == "reads" else 1,)))

    looks = [style.FACT_TYPE, style.FIRING, style.DERIVED, style.HANDOVER]
    present = {d.get("concept_kind") for _, d in g.nodes(data=True)}
    looks += [look for kind, look in style.CONCLUSION_LOOKS.items() if kind in present]
    rule_look = style.Look("rule", style.FIRING.shape, style.FIRING.fill, style.FIRING.border)
    looks[1] = rule_look
    edges = [(style.EDGE, "\u2192", "reads: the rule matches this fact"),
             (NEGATED_EDGE, "\u22a3", "reads under not: the rule needs it absent"),
             (style.DECLARE_EDGE, "\u2192", "declares: concludes, hands over, computes")]
    if overlaid:
        edges.append((style.FADED, "\u2192", "faded: not on this case's path"))
    spec.nodes.append(DotNode("legend", {"shape": "plaintext", "tooltip": "legend",
                                         "label": style.legend_label(looks, edges)},
                              (9, 0, ""), None))
    return spec
