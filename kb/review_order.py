"""The review's order of the algorithms: the stepwise approach of section 7 first.

Triage (7.1), bedside assessment (7.2), volume reconciliation (7.3) and the steps
after it, in the order of the section 7 subsection each algorithm cites first; then
the algorithms of the earlier sections (1.1 taxonomy, 2.1 alarms, 3.3 laboratory,
4 exposures) in section order; then algorithms from other sources (trial planning).
Views that list algorithms (report graph, rulebook map, explain) use this order.
"""

from __future__ import annotations

from .loader import Algorithm, KnowledgeBase


def _rank(alg: Algorithm, sections: list[str]) -> tuple[int, int, str]:
    cited = [c.section for c in alg.cite if c.source == "review" and c.section in sections]
    stepwise = [sections.index(s) for s in cited if s == "7" or s.startswith("7.")]
    if stepwise:
        return 0, min(stepwise), alg.id
    if cited:
        return 1, min(sections.index(s) for s in cited), alg.id
    return 2, 0, alg.id


def algorithm_order(kb: KnowledgeBase) -> list[str]:
    """Algorithm ids in the review's order (triage first)."""
    review = kb.sources.get("review")
    sections = list(review.sections) if review is not None else []
    return sorted(kb.algorithms, key=lambda a: _rank(kb.algorithms[a], sections))
