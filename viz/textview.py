"""The plain-text assessment (`pumpdx assess`): the clinician view, on one screen.

The next step first, then the items in clinical order (pumpdx.viz.clinicianview),
each with its citations; questions in the order the algorithms ask them. Rule ids
and firing numbers only with `explain`, the reasoning trace only with `trace`,
background items only with `all_items`. Colour (urgent actions in bold red) only
when the caller asks for it: the command line asks on a terminal without NO_COLOR.
"""

from __future__ import annotations

import textwrap
from typing import Any

from pumpdx.engine.assessment import Assessment
from pumpdx.kb.controls import printable
from pumpdx.kb.loader import KnowledgeBase

from .clinicianview import ClinicianView, ViewItem, clinician_view

DEFAULT_WIDTH = 88
MIN_WIDTH = 40
MAX_WIDTH = 160
_RED = "\033[1;31m"
_BOLD = "\033[1m"
_RESET = "\033[0m"


def case_summary(case: dict[str, Any]) -> str:
    parts = []
    pump = case.get("pump")
    if pump:
        size = f" {pump['reservoir_ml']:g} mL" if pump.get("reservoir_ml") else ""
        parts.append(f"{pump.get('model') or pump.get('manufacturer') or 'pump'}{size}")
    drugs = case.get("drugs") or []
    if drugs:
        parts.append(", ".join(d["agent"] for d in drugs))
    parts.append("presents with " + ", ".join(case["presentation"]["problems"]))
    return "; ".join(parts)


def _fact_label(a: Assessment, fact_id: int) -> str:
    f = a.trace.fact(fact_id)
    main = f.content.get("id") or f.content.get("kind") or f.content.get("name") \
        or f.content.get("agent") or f.content.get("model") or f.content.get("algorithm") \
        or f.content.get("direction") or f.content.get("finding") or ""
    return f"{f.id}:{f.type}" + (f"({main})" if main else "")


class _Writer:
    def __init__(self, width: int, color: bool) -> None:
        self.width = max(MIN_WIDTH, min(MAX_WIDTH, width))
        self.color = color
        self.lines: list[str] = []

    def wrap(self, text: str, indent: str, hang: int = 0, style: str = "") -> None:
        # Whitespace is folded; any other control character is escaped, so a case's text
        # cannot drive the terminal.
        body = textwrap.wrap(printable(" ".join(text.split())), self.width, initial_indent=indent,
                             subsequent_indent=" " * (len(indent) + hang)) or [indent]
        if style and self.color:
            body = [style + line + _RESET for line in body]
        self.lines += body

    def heading(self, title: str, style: str = _BOLD) -> None:
        self.lines.append("")
        self.lines.append(f"{style}{title}{_RESET}" if self.color else title)


def _item(w: _Writer, item: ViewItem, marker: str, explain: bool, urgent: bool) -> None:
    w.wrap(item.text, marker, style=_RED if urgent else "")
    pad = " " * len(marker)
    for line in item.lines:
        w.wrap(line, pad + "- ", hang=0, style=_RED if urgent else "")
    if item.needs and item.kind == "question":
        w.wrap(f"(needs: {', '.join(item.needs)})", pad)
    w.wrap(f"[{'; '.join(item.citations)}]", pad)
    if explain:
        w.wrap(f"concepts {', '.join(item.ids)}; rule {', '.join(item.rules)}; "
               f"firing {', '.join(map(str, item.firings))}", pad)


def format_assessment(a: Assessment, kb: KnowledgeBase | None, *, trace: bool = False,
                      explain: bool = False, all_items: bool = False, color: bool = False,
                      width: int = DEFAULT_WIDTH) -> str:
    """The assessment as text; see the module doc for the switches.

    `kb` is the knowledge base the assessment was made with; None (a logged decision of
    another knowledge base) orders it by the default view.
    """
    view: ClinicianView = clinician_view(a, kb)
    w = _Writer(width, color)
    w.wrap(f"PumpDx assessment {a.decision_id}  (knowledge base {a.kb_version}, "
           f"pumpdx {a.engine.get('pumpdx', '?')})", "")
    label = f"Case {a.case['case_id']}: " if a.case.get("case_id") else "Case: "
    w.wrap(label + case_summary(a.case), "")
    if a.case.get("description"):
        w.wrap(str(a.case["description"]), "  ")
    if a.case.get("other_findings"):
        w.wrap("Other findings (as written; not used by the rules): "
               + str(a.case["other_findings"]), "  ")
    if a.conflicts:
        w.heading("!! CONFLICTING CONCLUSIONS - report this knowledge-base defect:", _RED)
        w.lines += [f"   {c.first} <-> {c.second}" for c in a.conflicts]
    w.lines.append("")
    w.wrap("NEXT STEP: " + (a.next_step or view.next_step), "", hang=11, style=_BOLD)
    for section in view.sections:
        urgent = section.items[0].priority < view.urgent_below
        w.heading(section.title, _RED if urgent else _BOLD)
        for i, item in enumerate(section.items, 1):
            _item(w, item, f"  {i}. ", explain, urgent)
    if all_items and view.detail:
        w.heading("BACKGROUND")
        for i, item in enumerate(view.detail, 1):
            _item(w, item, f"  {i}. ", explain, False)
    if view.questions or view.later_questions:
        w.heading("OPEN QUESTIONS (in the order to ask them)")
        for item in view.questions:
            _item(w, item, "  ? ", explain, False)
        if view.later_questions:
            w.wrap("Later, once the questions above are answered:", "  ")
            for item in view.later_questions:
                _item(w, item, "    ? ", explain, False)
    if not a.conclusions and not a.questions:
        w.lines += ["", "No rule applies to this case."]
    hidden = len(view.detail)
    if hidden and not all_items:
        w.lines.append("")
        w.wrap(f"{hidden} background item{'s' if hidden != 1 else ''} not shown "
               f"(--all shows them; the JSON lists every conclusion).", "")
    if trace:
        w.heading(f"REASONING TRACE ({len(a.trace.firings)} firings)")
        for f in a.trace.firings:
            matched = ", ".join(_fact_label(a, i) for i in f.matched) or "(no facts)"
            declared = ", ".join(_fact_label(a, i) for i in f.declared) or "-"
            w.wrap(f"#{f.seq} {f.rule} [{f.algorithm}]: {matched} -> {declared}", "  ", hang=4)
    return "\n".join(w.lines) + "\n"
