"""A readable plain-text assessment: urgent actions first, each with its citation."""

from __future__ import annotations

import textwrap
from typing import Any

from .assessment import Assessment

HEADINGS = {
    "urgent_action": "URGENT ACTIONS",
    "suspected_cause": "SUSPECTED CAUSES",
    "recommendation": "RECOMMENDATIONS",
    "warning": "WARNINGS",
    "finding": "FINDINGS",
}
WIDTH = 88


def _wrap(text: str, indent: str, hang: int = 0) -> str:
    return textwrap.fill(" ".join(text.split()), WIDTH, initial_indent=indent,
                         subsequent_indent=" " * (len(indent) + hang))


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


def format_assessment(a: Assessment, trace: bool = True) -> str:
    lines = [f"PumpDx assessment {a.decision_id}  (knowledge base {a.kb_version}, "
             f"pumpdx {a.engine.get('pumpdx', '?')})"]
    if a.case.get("case_id"):
        lines.append(f"Case {a.case['case_id']}: {case_summary(a.case)}")
    else:
        lines.append(f"Case: {case_summary(a.case)}")
    if a.conflicts:
        lines.append("")
        lines.append("!! CONFLICTING CONCLUSIONS - report this knowledge-base defect:")
        lines += [f"   {c.first} <-> {c.second}" for c in a.conflicts]
    for kind, heading in HEADINGS.items():
        items = a.by_kind(kind)
        if not items:
            continue
        lines += ["", heading]
        for i, c in enumerate(items, 1):
            lines.append(_wrap(c.text, f"  {i}. "))
            lines.append(_wrap(f"[{'; '.join(c.citations)}] rule {', '.join(c.rules)}; "
                               f"firing {', '.join(map(str, c.derived_by))}", "     "))
    if a.questions:
        lines += ["", "OPEN QUESTIONS (findings needed to go on)"]
        for q in a.questions:
            lines.append(_wrap(f"{q.text} (needs: {q.needs})", "  ? "))
            askers = "; ".join(f"{x.rule} (firing {x.firing})" for x in q.asked_by)
            lines.append(_wrap(f"[{'; '.join(q.citations)}] asked by {askers}", "     "))
    if not a.conclusions and not a.questions:
        lines += ["", "No rule applies to this case."]
    if trace:
        lines += ["", f"REASONING TRACE ({len(a.trace.firings)} firings)"]
        for f in a.trace.firings:
            matched = ", ".join(_fact_label(a, i) for i in f.matched) or "(no facts)"
            declared = ", ".join(_fact_label(a, i) for i in f.declared) or "-"
            lines.append(_wrap(f"#{f.seq} {f.rule} [{f.algorithm}]: {matched} -> {declared}",
                               "  ", hang=4))
    return "\n".join(lines) + "\n"
