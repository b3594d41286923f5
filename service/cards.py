"""An Assessment as CDS Hooks cards.

One critical card per urgent action, one warning card per warning (and per pair of
contradicting conclusions), one info card with the next step and the rest, and one info
card with the open questions (what to record next). Each card's detail shows the rule,
its inputs and the citations (FDA CDS criterion 4); each links to the audit report.
"""

from __future__ import annotations

import uuid

from pumpdx.engine.assessment import Assessment, Conclusion, Question
from pumpdx.kb.loader import KnowledgeBase
from pumpdx.viz.graph import fact_summary
from pumpdx.viz.report import cited_quotes

from .cds_models import Card, Link, Source

SUMMARY_MAX = 139
_NAMESPACE = uuid.UUID("6f1c1c9e-4a53-5d0a-9a51-8f3b5d2d7c11")
SOURCE_TITLE = ("Wojnowski et al., Troubleshooting intrathecal pumps in pain management: "
                "a clinical review")


def summary(text: str, prefix: str = "") -> str:
    """`prefix + text` cut at a word to fit a card summary (under 140 characters)."""
    full = prefix + " ".join(text.split())
    if len(full) <= SUMMARY_MAX:
        return full
    cut = full[: SUMMARY_MAX - 1].rsplit(" ", 1)[0].rstrip(",;:.-")
    return cut + "…"


def _md(text: str) -> str:
    """Escape Markdown control characters in text that came from outside the code."""
    out = []
    for ch in text:
        if ch in "\\`*_{}[]<>#|!":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _inputs(a: Assessment, seqs: list[int]) -> list[str]:
    lines: list[str] = []
    for seq in seqs:
        firing = next((f for f in a.trace.firings if f.seq == seq), None)
        if firing is None:
            continue
        for fid in firing.matched:
            fact = a.trace.fact(fid)
            text = f"{fact.type} ({'; '.join(fact_summary(fact.type, fact.content))})"
            if text not in lines:
                lines.append(text)
    return lines


def conclusion_detail(a: Assessment, c: Conclusion, kb: KnowledgeBase | None) -> str:
    """Markdown: the conclusion, the rules that drew it, their inputs, its citations and
    the verbatim source text they quote."""
    rules = ", ".join(f"`{r}`" for r in c.rules)
    firings = ", ".join(f"#{s}" for s in c.derived_by)
    lines = [_md(c.text), "", f"**Rule:** {rules} (firing {firings})", "", "**Inputs:**"]
    lines += [f"- {_md(x)}" for x in _inputs(a, c.derived_by)] or ["- (none)"]
    lines += ["", "**Cites:** " + "; ".join(_md(x) for x in c.citations)]
    quotes = cited_quotes(c, kb)
    if quotes:
        lines += ["", "**Source text:**"]
        lines += [f"- {_md(label)}: \u201c{_md(quote)}\u201d" for label, quote in quotes]
    return "\n".join(lines)


def _question_detail(q: Question) -> str:
    askers = ", ".join(f"`{x.rule}` (firing #{x.firing})" for x in q.asked_by)
    return (f"- **Record `{q.needs}`**: {_md(q.text)}  \n"
            f"  asked by {askers}; cites {'; '.join(_md(c) for c in q.citations)}")


def _uuid(a: Assessment, key: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{a.decision_id}/{key}"))


def _source(citations: list[str]) -> Source:
    label = citations[0] if citations else "PumpDx knowledge base"
    return Source(label=f"{label} ({SOURCE_TITLE})"[:500])


def build_cards(a: Assessment, report_url: str, kb: KnowledgeBase | None = None) -> list[Card]:
    """The cards of one assessment, in the order critical, warning, info; `kb` (the
    assessment's knowledge base) adds the quoted source text to each detail."""
    link = [Link(label="Audit report of this decision (rules, inputs, citations)",
                 url=report_url, type="absolute")]
    cards: list[Card] = []
    for c in a.by_kind("urgent_action"):
        cards.append(Card(uuid=_uuid(a, c.id), summary=summary(c.text),
                          detail=conclusion_detail(a, c, kb), indicator="critical",
                          source=_source(c.citations), links=link))
    for c in a.by_kind("warning"):
        cards.append(Card(uuid=_uuid(a, c.id), summary=summary(c.text),
                          detail=conclusion_detail(a, c, kb), indicator="warning",
                          source=_source(c.citations), links=link))
    for conflict in a.conflicts:
        cards.append(Card(
            uuid=_uuid(a, f"conflict/{conflict.first}/{conflict.second}"),
            summary=summary(f"{conflict.first} and {conflict.second} contradict each other",
                            "Contradiction: "),
            detail=("The knowledge base drew two conclusions that contradict each other: "
                    f"`{conflict.first}` and `{conflict.second}`. Review the audit report."),
            indicator="warning", source=_source([]), links=link))
    rest = [c for kind in ("recommendation", "suspected_cause", "finding")
            for c in a.by_kind(kind)]
    if rest:
        first = rest[0]
        sections = []
        for kind, title in (("recommendation", "Recommendations"),
                            ("suspected_cause", "Suspected causes"), ("finding", "Findings")):
            items = a.by_kind(kind)
            if items:
                sections.append(f"### {title}\n\n" + "\n\n".join(
                    f"{i}. " + conclusion_detail(a, c, kb).replace("\n", "\n   ")
                    for i, c in enumerate(items, 1)))
        cards.append(Card(uuid=_uuid(a, "next-step"), summary=summary(first.text, "Next: "),
                          detail="\n\n".join(sections), indicator="info",
                          source=_source(first.citations), links=link))
    if a.questions:
        first_q = a.questions[0]
        n = len(a.questions)
        cards.append(Card(
            uuid=_uuid(a, "open-questions"),
            summary=summary(first_q.text, f"Record next ({n} open): "),
            detail="PumpDx needs these findings to go on:\n\n"
                   + "\n".join(_question_detail(q) for q in a.questions),
            indicator="info", source=_source(first_q.citations), links=link))
    return cards
