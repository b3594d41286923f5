"""Shapes, colours, text folding and the legend shared by the audit graphs.

One place decides how each kind of node looks, so the reasoning graph, the
rulebook map and the HTML report use the same visual language. Colours are
chosen to stay distinguishable in grey-scale print (fill and border differ in
lightness) and every kind also differs in shape, not only in colour.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .dot import Html

FONT = "Helvetica"
FADED = "#c8c8c8"
FADED_TEXT = "#a0a0a0"
EDGE = "#555555"
DECLARE_EDGE = "#9a6b00"
CITE_EDGE = "#8a8a8a"


@dataclass(frozen=True)
class Look:
    """How one kind of node is drawn."""

    name: str
    shape: str
    fill: str
    border: str
    style: str = "filled"
    penwidth: str = "1.2"

    def attrs(self) -> dict[str, str]:
        return {"shape": self.shape, "fillcolor": self.fill, "color": self.border,
                "style": self.style, "penwidth": self.penwidth}


INPUT = Look("input finding", "note", "#e6f0fb", "#3f6fa8")
DERIVED = Look("derived fact", "box", "#f0f0f0", "#6b6b6b", "rounded,filled,dashed")
FIRING = Look("rule firing", "component", "#fff3cf", "#a87800", penwidth="1.6")
CITATION = Look("citation (review section, figure)", "tab", "#ffffff", "#555555")
CONCEPT = Look("concept", "box", "#ffffff", "#6b6b6b", "rounded,filled")
FACT_TYPE = Look("fact type", "note", "#e6f0fb", "#3f6fa8")
HANDOVER = Look("handover between algorithms", "cds", "#ece6f5", "#5b4a8a")

CONCLUSION_LOOKS: dict[str, Look] = {
    "urgent_action": Look("urgent action", "box", "#fbd9d6", "#b3261e", "rounded,filled,bold",
                          "2.4"),
    "suspected_cause": Look("suspected cause", "box", "#ffe5c7", "#c25e00", "rounded,filled"),
    "recommendation": Look("recommendation", "box", "#dcf0d9", "#2e7d32", "rounded,filled"),
    "warning": Look("warning", "box", "#fff6b8", "#8a6d00", "rounded,filled"),
    "question": Look("question (finding needed)", "box", "#ebe0f7", "#6a3d9a",
                     "rounded,filled,dashed", "1.6"),
    "finding": Look("finding", "box", "#d9f0f2", "#00695c", "rounded,filled"),
}
UNKNOWN_CONCLUSION = Look("conclusion", "box", "#ffffff", "#333333", "rounded,filled")

HEADINGS = {
    "urgent_action": "Urgent actions",
    "suspected_cause": "Suspected causes",
    "recommendation": "Recommendations",
    "warning": "Warnings",
    "finding": "Findings",
    "question": "Open questions",
}


def conclusion_look(kind: str) -> Look:
    return CONCLUSION_LOOKS.get(kind, UNKNOWN_CONCLUSION)


def fold(text: str, width: int, max_lines: int) -> list[str]:
    """Wrap `text` to `width` columns; past `max_lines` end the last line with an ellipsis."""
    lines = textwrap.wrap(" ".join(str(text).split()), width, break_long_words=True,
                          break_on_hyphens=False) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1].rstrip() + "\u2026"
    return lines


def esc(text: object) -> str:
    """Escape text for a Graphviz HTML-like label (and for HTML)."""
    return html.escape(str(text), quote=True)


def html_label(title: str, lines: Iterable[str] = (), *, note: Sequence[str] = (),
               title_color: str = "#000000", faded: bool = False) -> Html:
    """A Graphviz HTML-like label: a bold title, plain lines, small grey notes.

    All text is escaped here; callers pass plain text. Lines are left-aligned.
    `faded` draws all of it in light grey (the parts of a map a case did not use).
    """
    left = '<BR ALIGN="LEFT"/>'
    note_color = FADED_TEXT if faded else "#555555"
    title_color = FADED_TEXT if faded else title_color
    parts = [f'<FONT COLOR="{title_color}"><B>{esc(title)}</B></FONT>{left}']
    if faded:
        parts += [f'<FONT COLOR="{FADED_TEXT}">{esc(line)}</FONT>{left}' for line in lines]
    else:
        parts += [f"{esc(line)}{left}" for line in lines]
    parts += [f'<FONT POINT-SIZE="9" COLOR="{note_color}">{esc(n)}</FONT>{left}'
              for n in note]
    return Html("<" + "".join(parts) + ">")


def legend_label(nodes: Sequence[Look], edges: Sequence[tuple[str, str, str]] = (),
                 title: str = "Legend") -> Html:
    """An HTML-like table: a row per node kind in its colours, a row per edge kind.

    `edges` holds (colour, glyph, meaning), e.g. ("#555555", "→", "used").
    """
    cells = [f'<TR><TD COLSPAN="2" ALIGN="LEFT"><B>{esc(title)}</B></TD></TR>']
    for look in nodes:
        cells.append(
            f'<TR><TD BGCOLOR="{look.fill}" COLOR="{look.border}" BORDER="1" WIDTH="26">'
            f' </TD><TD ALIGN="LEFT">{esc(look.name)}</TD></TR>')
    for colour, glyph, meaning in edges:
        cells.append(f'<TR><TD><FONT COLOR="{colour}"><B>{esc(glyph)}</B></FONT></TD>'
                     f'<TD ALIGN="LEFT">{esc(meaning)}</TD></TR>')
    return Html('<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="2">'
                + "".join(cells) + "</TABLE>>")


CLUSTER_WIDTH = 30


def cluster_label(title: str, algorithm: str) -> Html:
    """An algorithm box's label, wrapped narrow: with rankdir=LR Graphviz does not make
    room for a wide cluster label, which would then overlap the neighbouring box."""
    left = '<BR ALIGN="LEFT"/>'
    lines = fold(title, CLUSTER_WIDTH, 3) if title else []
    parts = [f"<B>{esc(line)}</B>{left}" for line in lines]
    parts.append(f'<FONT POINT-SIZE="9" COLOR="#555555">{esc(algorithm)}</FONT>{left}')
    return Html("<" + "".join(parts) + ">")
