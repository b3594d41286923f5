"""Every citation of a knowledge base, and the check of its quote against the source text.

A citation is supported when its `quote` is found (see sourcetext.normalise) in the text
of the place it cites: for the review and the trial chapter, the cited section's own text
(or, for a figure-only citation, the figure's caption); for the domain notes, one entry
under the cited `## ` heading that is not UNCONFIRMED. `pumpdx kb lint --sources DIR`
reports each quote that is not found and each citation without a quote (check `quote`),
and the share of citations that carry a quote.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .issues import KBIssue, display_path
from .lint import LintContext, Loc
from .loader import KnowledgeBase
from .schema import Citation
from .sourcetext import SourceText, normalise


@dataclass(frozen=True)
class CitedAt:
    """One citation and where it is written (file, line, the id of what it supports)."""

    file: str
    line: int
    owner: str
    citation: Citation


def _cited(ctx: LintContext, file: str, loc: Loc, owner: str,
           cites: tuple[Citation, ...] | list[Citation]) -> Iterator[CitedAt]:
    doc = ctx.doc(file)
    for i, c in enumerate(cites):
        line = doc.line_of((*loc, "cite", i)) if doc is not None else 1
        yield CitedAt(file, line, owner, c)


def iter_citations(ctx: LintContext) -> Iterator[CitedAt]:
    """Every citation of the KB: algorithms, rules, concepts, parameters, drugs, signs."""
    kb = ctx.kb
    for alg in kb.algorithms.values():
        yield from _cited(ctx, alg.file, (), alg.id, alg.cite)
    for lr in kb.rules:
        doc = ctx.doc(lr.file)
        rules = doc.data.get("rules", []) if doc is not None and isinstance(doc.data, dict) \
            else []
        index = next((i for i, raw in enumerate(rules)
                      if isinstance(raw, dict) and raw.get("id") == lr.rule.id), 0)
        yield from _cited(ctx, lr.file, ("rules", index), lr.rule.id, lr.rule.cite)
    for cid, concept in kb.concepts.items():
        file = kb.concept_locations[cid][0]
        doc = ctx.doc(file)
        items = doc.data.get("concepts", []) if doc is not None and isinstance(doc.data, dict) \
            else []
        index = next((i for i, raw in enumerate(items)
                      if isinstance(raw, dict) and raw.get("id") == cid), 0)
        yield from _cited(ctx, file, ("concepts", index), cid, concept.cite)
    for name, table, key in (("parameters.yaml", kb.parameters, "parameters"),
                             ("drugs.yaml", kb.agents, "agents"),
                             ("signs.yaml", kb.signs, "signs")):
        file = display_path(kb.root / name, kb.root)
        for item, value in table.items():
            yield from _cited(ctx, file, (key, item), item, value.cite)
    signs_file = display_path(kb.root / "signs.yaml", kb.root)
    signs_doc = ctx.doc(signs_file)
    for sign, info in kb.signs.items():
        for cls, reading in info.readings.items():
            for syndrome, cites in (("overdose", reading.overdose),
                                    ("withdrawal", reading.withdrawal)):
                for i, c in enumerate(cites):
                    loc = ("signs", sign, "readings", cls, syndrome, i)
                    line = signs_doc.line_of(loc) if signs_doc is not None else 1
                    yield CitedAt(signs_file, line, f"{sign} ({cls} {syndrome})", c)


def _place(c: Citation) -> str:
    if c.source == "domain_notes":
        return f"domain notes '{c.section}'" if c.section else "domain notes"
    if c.source == "trial_chapter":
        return f"trial chapter '{c.section}'"
    return f"review §{c.section}" if c.section else f"review Fig. {c.figure}"


def quote_support_problem(c: Citation, texts: dict[str, SourceText]) -> str | None:
    """Why the quote of a citation is missing or not supported by the text it cites, or
    None."""
    if c.quote is None:
        return (f"citation of {_place(c)} has no quote: add a verbatim excerpt (4-30 words) "
                "of the cited text that supports it")
    text = texts.get(c.source)
    if text is None:
        return f"no text for source '{c.source}' (sources.yaml names no file for it)"
    if c.source == "domain_notes" and not c.section:
        return ("a domain-notes citation names the heading its entry stands under (section: "
                + ", ".join(repr(s) for s in text.sections) + f"); quote \"{c.quote}\"")
    if c.section is None and c.figure is not None and c.figure not in text.captions:
        return (f"figure {c.figure} has no caption in {text.path}: cite the section that "
                f"says it; quote \"{c.quote}\"")
    entry = text.find(c.quote, c.section, c.figure)
    if entry is None:
        elsewhere = sorted(s for s, entries in text.sections.items()
                           if any(normalise(c.quote) in e.text for e in entries))
        hint = f" (it is in {', '.join(elsewhere)})" if elsewhere else ""
        return f"quote not found in {_place(c)}{hint}: \"{c.quote}\""
    if entry.unconfirmed:
        return (f"quote is from an UNCONFIRMED entry of {_place(c)}, which must not be "
                f"encoded: \"{c.quote}\"")
    return None


@dataclass(frozen=True)
class QuoteReport:
    issues: list[KBIssue]
    citations: int
    quoted: int

    @property
    def share(self) -> float:
        """Percentage of citations with a quote (100 for a KB without citations)."""
        return 100.0 * self.quoted / self.citations if self.citations else 100.0


def check_quotes(kb: KnowledgeBase, texts: dict[str, SourceText]) -> QuoteReport:
    """Check every citation's quote against the source texts; count the quoted ones."""
    ctx = LintContext(kb)
    issues: list[KBIssue] = []
    for source, text in sorted(texts.items()):
        sources_file = display_path(kb.root / "sources.yaml", kb.root)
        issues.extend(KBIssue(sources_file, 1, source, f"{text.path}: {p}", "quote")
                      for p in text.problems)
    total = quoted = 0
    for at in iter_citations(ctx):
        total += 1
        if at.citation.quote is not None:
            quoted += 1
        problem = quote_support_problem(at.citation, texts)
        if problem:
            issues.append(KBIssue(at.file, at.line, at.owner, problem, "quote"))
    return QuoteReport(sorted(set(issues)), total, quoted)
