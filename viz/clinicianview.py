"""The clinician view of an assessment: what to do now, in clinical order, merged.

The Assessment (and its JSON) keeps every conclusion for auditors. This view is a
rendering of it for the clinician at the bedside, built only from the knowledge
base's kb/clinician_view.yaml (docs/clinician-view.md):

- every conclusion gets a priority (its own entry, else its tags', else its kind's);
  items are shown in order of priority, then of the firing that first drew them;
- a concept that restates others (`subsumes`) is shown once, in place of the ones it
  restates, with all their citations; `groups` gather several concepts into one
  checklist item;
- the sections split the ordered items by priority; items at `detail_from` or beyond
  are listed only in the full view (`pumpdx assess --all`);
- questions follow the same rule; a question the algorithm asks only after another
  one (`after`) is listed under "later" while that one is open;
- the next step is the first action of the view (or the first question).

Text, HTML and the JSON `next_step` are all rendered from this one view.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pumpdx.kb.loader import DEFAULT_VIEW, KnowledgeBase
from pumpdx.kb.schema import ClinicianViewFile

if TYPE_CHECKING:
    from pumpdx.engine.assessment import Assessment, Conclusion, Question

ACTION_KINDS = ("urgent_action", "recommendation")


@dataclass(frozen=True)
class ViewItem:
    """One item a clinician reads: a conclusion, or several merged into one."""

    ids: tuple[str, ...]  # every concept shown by this item; the first gives the text
    kind: str
    text: str
    priority: int
    citations: tuple[str, ...]
    rules: tuple[str, ...]
    firings: tuple[int, ...]
    lines: tuple[str, ...] = ()  # checklist lines of a group
    needs: tuple[str, ...] = ()  # questions: the findings needed
    lead: str = ""  # the concept that leads (a group's first line), else the item's own
    lead_text: str = ""

    @property
    def id(self) -> str:
        return self.ids[0]


@dataclass(frozen=True)
class ViewSection:
    title: str
    items: tuple[ViewItem, ...]


@dataclass(frozen=True)
class ClinicianView:
    next_step: str
    sections: tuple[ViewSection, ...]
    detail: tuple[ViewItem, ...]  # only in the full view
    questions: tuple[ViewItem, ...]
    later_questions: tuple[ViewItem, ...]
    urgent_below: int = field(default=0)

    def shown(self) -> list[ViewItem]:
        """The conclusions shown by default (questions apart)."""
        return [i for s in self.sections for i in s.items]

    def urgent(self) -> list[ViewItem]:
        return [i for i in self.shown() if i.priority < self.urgent_below]


def priority_of(concept_id: str, kb: KnowledgeBase | None, kind: str | None = None) -> int:
    """The ordering rule: the concept's own priority, else its tags', else its kind's.

    Without the assessment's knowledge base (or for a concept it does not hold) the
    default view of kinds applies, with `kind` as given.
    """
    view = kb.view if kb is not None else DEFAULT_VIEW
    if concept_id in view.priority:
        return view.priority[concept_id]
    concept = kb.concepts.get(concept_id) if kb is not None else None
    if concept is None:
        by_kind: dict[str, int] = {str(k): v for k, v in view.kind_priority.items()}
        return by_kind.get(kind or "finding", by_kind["finding"])
    tagged = [view.tag_priority[t] for t in concept.tags if t in view.tag_priority]
    if tagged:
        return min(tagged)
    return view.kind_priority[concept.kind]


_SENTENCE_END = re.compile(r"(?<=[a-z0-9)\]])[.;] (?=[A-Z(])")


def first_sentence(text: str) -> str:
    """The text up to the end of its first sentence, on one line."""
    flat = " ".join(text.split())
    match = _SENTENCE_END.search(flat)
    return flat[: match.start() + 1] if match else flat


@dataclass
class _Entry:
    id: str
    kind: str
    text: str
    citations: list[str]
    rules: list[str]
    firings: list[int]
    needs: str = ""


def _entries(conclusions: Sequence[Conclusion], questions: Sequence[Question]
             ) -> dict[str, _Entry]:
    out: dict[str, _Entry] = {}
    for c in conclusions:
        out[c.id] = _Entry(c.id, c.kind, c.text, list(c.citations), list(c.rules),
                           list(c.derived_by))
    for q in questions:
        out[q.id] = _Entry(q.id, "question", q.text, list(q.citations),
                           [x.rule for x in q.asked_by], [x.firing for x in q.asked_by],
                           q.needs)
    return out


def _union(lists: Sequence[Sequence[str]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(x for part in lists for x in part))


def _merge(entries: dict[str, _Entry], kb: KnowledgeBase | None) -> list[ViewItem]:
    view = _view_of(kb)
    absorbed: dict[str, list[str]] = {}
    taken: set[str] = set()
    for broad, narrow in view.subsumes.items():
        if broad in entries:
            found = [n for n in narrow if n in entries and n not in taken]
            absorbed[broad] = found
            taken.update(found)
    items: list[ViewItem] = []
    for gid, group in view.groups.items():
        members = [m for m in group.members if m in entries and m not in taken]
        if len(members) < 2:
            continue
        parts: list[str] = []
        for m in members:
            parts += [m, *absorbed.pop(m, [])]
        taken.update(parts)
        ordered = sorted(members, key=lambda m: (priority_of(m, kb, entries[m].kind),
                                                 entries[m].firings[:1], m))
        lead = entries[ordered[0]]
        items.append(ViewItem(
            ids=(gid, *parts), kind=lead.kind, text=" ".join(group.text.split()),
            priority=min(priority_of(m, kb, entries[m].kind) for m in members),
            citations=_union([entries[p].citations for p in parts]),
            rules=_union([entries[p].rules for p in parts]),
            firings=tuple(sorted({f for p in parts for f in entries[p].firings})),
            lines=tuple(" ".join(entries[m].text.split()) for m in ordered),
            needs=_union([[entries[m].needs] for m in ordered if entries[m].needs]),
            lead=lead.id, lead_text=lead.text))
    for cid, entry in entries.items():
        if cid in taken:
            continue
        parts = [cid, *absorbed.get(cid, [])]
        items.append(ViewItem(
            ids=tuple(parts), kind=entry.kind, text=" ".join(entry.text.split()),
            priority=priority_of(cid, kb, entry.kind),
            citations=_union([entries[p].citations for p in parts]),
            rules=_union([entries[p].rules for p in parts]),
            firings=tuple(sorted({f for p in parts for f in entries[p].firings})),
            needs=(entry.needs,) if entry.needs else (), lead=cid, lead_text=entry.text))
    items.sort(key=lambda i: (i.priority, i.firings[:1], i.id))
    return items


def _view_of(kb: KnowledgeBase | None) -> ClinicianViewFile:
    return kb.view if kb is not None else DEFAULT_VIEW


def next_step_text(item: ViewItem | None, kb: KnowledgeBase | None) -> str:
    if item is None:
        return "No step of the review applies to this case as entered."
    short = _view_of(kb).short.get(item.lead)
    text = " ".join(short.split()) if short else first_sentence(item.lead_text)
    if item.kind == "question":
        return "Find out: " + text
    return text


def build_view(conclusions: Sequence[Conclusion], questions: Sequence[Question],
               kb: KnowledgeBase | None) -> ClinicianView:
    """The clinician view of these conclusions and questions (see the module doc).
    `kb` is the knowledge base that made them (None: kinds in their default order)."""
    view = _view_of(kb)
    entries = _entries(conclusions, questions)
    merged = _merge(entries, kb)
    items = [i for i in merged if i.kind != "question"]
    asked = [i for i in merged if i.kind == "question"]
    open_ids = {q.id for q in questions}
    now_q = [q for q in asked if not any(f in open_ids and f not in q.ids
                                         for i in q.ids for f in view.after.get(i, []))]
    later_q = [q for q in asked if q not in now_q]
    sections: list[ViewSection] = []
    low = -(10**9)
    shown = [i for i in items if i.priority < view.detail_from]
    for spec in view.sections:
        members = tuple(i for i in shown if low <= i.priority < spec.below)
        if members:
            sections.append(ViewSection(spec.title, members))
        low = spec.below
    rest = tuple(i for i in shown if i.priority >= low)
    if rest:
        sections.append(ViewSection("OTHER", rest))
    detail = tuple(i for i in items if i.priority >= view.detail_from)
    first = next((i for s in sections for i in s.items if i.kind in ACTION_KINDS), None)
    if first is None and now_q:
        first = now_q[0]
    return ClinicianView(next_step=next_step_text(first, kb), sections=tuple(sections),
                         detail=detail, questions=tuple(now_q),
                         later_questions=tuple(later_q),
                         urgent_below=view.sections[0].below)


def clinician_view(a: Assessment, kb: KnowledgeBase | None) -> ClinicianView:
    """The clinician view of an assessment made with this knowledge base."""
    return build_view(a.conclusions, a.questions, kb)
