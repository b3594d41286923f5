"""The reasoning graph in the HTML report: zoom, pan, one conclusion's path, print.

Without scripts: zoom levels and the path filter are radio buttons styled by CSS
(`:checked ~ .graph ...`), panning is the scrolling of the graph's frame, and each
firing node links to its row of the firing table (the DOT sets `href`). The nodes and
edges of each conclusion's path carry the class `path_<concept>` (reasoning_dot.py),
so choosing a conclusion fades everything else. In print the controls are hidden, the
filter is ignored and the graph is scaled to fit one landscape page whole.
"""

from __future__ import annotations

import html
import re

from pumpdx.engine.assessment import Assessment

from .graph import path_class

ZOOMS = (("fit", "fit width"), ("50", "50%"), ("100", "100%"), ("150", "150%"),
         ("200", "200%"))

CSS = """
.gv{position:relative}.gv>input{position:absolute;opacity:0;pointer-events:none}
.gv .controls{margin:.3em 0;font-size:.88em}.gv .controls span{color:#555;margin-right:.3em}
.gv .controls label{display:inline-block;border:1px solid #bbb;border-radius:3px;
padding:0 .4em;margin:.1em;cursor:pointer;background:#fff}
.gv .graph{overflow:auto;max-height:85vh;resize:vertical}
.gv .graph svg{height:auto}
@media print{@page{size:A4 landscape;margin:10mm}
.gv .controls,.gv>input{display:none}#graph{break-before:page}
.gv{break-inside:avoid}
.gv .graph{overflow:visible!important;max-height:none!important;border:0;resize:none}
.gv .graph svg{width:100%!important;height:auto!important;max-height:175mm!important}
.gv .graph g.node,.gv .graph g.edge{opacity:1!important}}
"""


def natural_width_pt(svg: str) -> float | None:
    """The width Graphviz gave the SVG, in points."""
    m = re.search(r'<svg[^>]*\swidth="([0-9.]+)pt"', svg)
    return float(m.group(1)) if m else None


def graph_view(svg: str, assessment: Assessment) -> str:
    """The graph with its controls, and the CSS rules that depend on this graph."""
    width = natural_width_pt(svg) or 1000.0
    drawn = set(re.findall(r'class="(?:node|edge) ([^"]*)"', svg))
    classes = {c for group in drawn for c in group.split()}
    concepts = [(c.id, c.kind) for c in assessment.conclusions]
    concepts += [(q.id, "question") for q in assessment.questions]
    concepts = [(cid, kind) for cid, kind in concepts if path_class(cid) in classes]

    rules: list[str] = []
    inputs: list[str] = []
    zoom_labels: list[str] = []
    for key, text in ZOOMS:
        ident = f"gv-zoom-{key}"
        checked = " checked" if key == "fit" else ""
        inputs.append(f'<input type="radio" name="gv-zoom" id="{ident}"{checked}>')
        zoom_labels.append(f'<label for="{ident}">{html.escape(text)}</label>')
        size = "100%" if key == "fit" else f"{width * int(key) / 100:.0f}pt"
        rules.append(f"#{ident}:checked~.graph svg{{width:{size}}}"
                     f"#{ident}:checked~.controls label[for={ident}]"
                     "{background:#333;color:#fff}")
    path_labels = ['<label for="gv-path-all">all</label>']
    inputs.append('<input type="radio" name="gv-path" id="gv-path-all" checked>')
    rules.append("#gv-path-all:checked~.controls label[for=gv-path-all]"
                 "{background:#333;color:#fff}")
    for cid, kind in concepts:
        ident = f"gv-path-{path_class(cid)}"
        cls = path_class(cid)
        inputs.append(f'<input type="radio" name="gv-path" id="{ident}">')
        path_labels.append(f'<label for="{ident}" title="{html.escape(kind)}">'
                           f"{html.escape(cid)}</label>")
        rules.append(f"#{ident}:checked~.graph g.node:not(.{cls}),"
                     f"#{ident}:checked~.graph g.edge:not(.{cls}){{opacity:.08}}"
                     f"#{ident}:checked~.controls label[for={ident}]"
                     "{background:#333;color:#fff}")
    return (f"<style>{''.join(rules)}</style>"
            '<div class="gv">' + "".join(inputs)
            + '<div class="controls"><span>zoom:</span>' + "".join(zoom_labels)
            + " <span>(scroll to pan)</span></div>"
            + '<div class="controls" id="path-filter"><span>show the path of one '
              "conclusion:</span>" + "".join(path_labels) + "</div>"
            + f'<div class="graph" id="reasoning-graph">{svg}</div></div>')
