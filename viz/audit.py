"""The audit files of one assessment: reasoning.dot, reasoning.svg, report.html and the
rulebook map with the case's path (rulebook.svg)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pumpdx.engine.assessment import Assessment
from pumpdx.kb.loader import KnowledgeBase

from .dot import RenderError, render, svg_for_html
from .reasoning_dot import reasoning_dot
from .report import html_report
from .rulebook_dot import rulebook_dot

RULEBOOK = "rulebook.svg"


@dataclass
class AuditFiles:
    """File name -> content; `problem` says in one line why reasoning.svg is missing."""

    files: dict[str, str | bytes] = field(default_factory=dict)
    problem: str | None = None


def audit_files(assessment: Assessment, kb: KnowledgeBase | None = None,
                generated_at: datetime | None = None, *,
                rulebook: Literal["case", "link", "none"] = "none",
                rulebook_href: str = RULEBOOK) -> AuditFiles:
    """The reasoning graph (DOT always, SVG when Graphviz is there) and the HTML report.

    The report links the rulebook map: with rulebook="case" (and `kb`) the map with
    this case's path is made here as rulebook.svg (`pumpdx assess --out`); with "link"
    the report links `rulebook_href`, a map made once for many reports (`pumpdx demo`);
    with "none" (a report served alone) there is no map to link.
    Without Graphviz's `dot` the DOT file and the report (with a note in place of
    the graph) are still made, and `problem` says what to install. When `dot` is
    there but fails, RenderError: an audit set without its graph is not written.
    """
    dot = reasoning_dot(assessment, kb)
    out = AuditFiles({"reasoning.dot": dot})
    inline: str | None = None
    reason = ""
    try:
        svg = render(dot, "svg")
        inline = svg_for_html(svg)
        out.files["reasoning.svg"] = svg
    except RenderError as exc:
        if not exc.missing:
            raise
        reason = str(exc)
        out.problem = f"reasoning.svg not written: {reason}"
    href: str | None = rulebook_href if rulebook == "link" else None
    if rulebook == "case" and kb is not None and inline is not None:
        try:
            out.files[RULEBOOK] = render(rulebook_dot(kb, assessment), "svg")
            href = RULEBOOK
        except RenderError:
            href = None
    out.files["report.html"] = html_report(assessment, kb, svg=inline, graph_note=reason,
                                           generated_at=generated_at, rulebook_href=href)
    return out
