"""The HTML audit report: complete, escaped, self-contained."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pumpdx.engine.assess import Assessor
from pumpdx.engine.assessment import Assessment
from pumpdx.engine.inputs import load_case
from pumpdx.kb.loader import KnowledgeBase
from pumpdx.viz.report import cited_quotes, html_report

from .conftest import CASES_DIR

CASES = sorted(CASES_DIR.glob("*.yaml"))
WHEN = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


class Outline(HTMLParser):
    """Element ids, table rows per table id, and every tag and attribute seen."""

    VOID = {"meta", "br", "link", "img", "input", "hr"}

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.rows: dict[str, int] = {}
        self.tags: set[str] = set()
        self.urls: list[str] = []
        self.stack: list[str] = []
        self._table: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.add(tag)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        for key in ("href", "src", "xlink:href", "action"):
            if a.get(key):
                self.urls.append(str(a[key]))
        if tag == "table":
            self._table.append(str(a.get("id") or ""))
        if tag == "tr" and self._table:
            self.rows[self._table[-1]] = self.rows.get(self._table[-1], 0) + 1
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()
        if tag == "table":
            self._table.pop()


def outline(page: str) -> Outline:
    parser = Outline()
    parser.feed(page)
    parser.close()
    assert parser.stack == [], "unclosed elements"
    return parser


@pytest.fixture(scope="module")
def assessments(assessor: Assessor) -> dict[str, Assessment]:
    return {p.stem: assessor.assess(load_case(str(p))) for p in CASES}


@pytest.mark.parametrize("case", [p.stem for p in CASES])
def test_report_holds_the_whole_audit(case: str, assessments: dict[str, Assessment],
                                      kb: KnowledgeBase) -> None:
    a = assessments[case]
    page = html_report(a, kb, svg=None, graph_note="test without graph", generated_at=WHEN)
    o = outline(page)
    for text in (a.decision_id, a.kb_version, "2024-05-06 07:08:09 UTC",
                 *a.engine.values()):
        assert html.escape(text) in page
    assert o.rows["firing-table"] == len(a.trace.firings) + 1
    assert o.rows["fact-table"] == len(a.trace.facts) + 1
    assert {f"firing-{f.seq}" for f in a.trace.firings} <= o.ids
    for f in a.trace.firings:
        assert html.escape(kb.rule(f.rule).rule.title) in page
    for c in a.conclusions:
        assert f"concl-{c.id}" in o.ids
        assert html.escape(c.text) in page
        assert all(html.escape(x) in page for x in c.citations)
    for q in a.questions:
        assert f"concl-{q.id}" in o.ids
        for asker in q.asked_by:
            assert html.escape(asker.title) in page and asker.rule in page
    assert "graph-missing" in o.ids and "test without graph" in page
    # everything a link points at is on the page itself
    assert all(u.startswith("#") and u[1:] in o.ids for u in o.urls)
    assert {"script", "link", "img", "iframe", "object"}.isdisjoint(o.tags)
    assert not re.search(r"(?i)url\(|@import|https?://", page)


def test_report_quotes_the_source_text_behind_each_conclusion(
        assessments: dict[str, Assessment], kb: KnowledgeBase) -> None:
    for a in assessments.values():
        page = html_report(a, kb, generated_at=WHEN)
        for c in a.conclusions:
            pairs = cited_quotes(c, kb)
            concept_quotes = {cite.quote for cite in kb.concepts[c.id].cite}
            assert concept_quotes <= {quote for _label, quote in pairs}, c.id
            for label, quote in pairs:
                assert f"{html.escape(label)}</span> &ldquo;{html.escape(quote)}&rdquo;" in page
    # without the knowledge base there is nothing to quote, and nothing is invented
    a = next(iter(assessments.values()))
    assert "quoted sources" not in html_report(a, None, generated_at=WHEN)


def test_report_embeds_the_graph(assessments: dict[str, Assessment], kb: KnowledgeBase) -> None:
    a = next(iter(assessments.values()))
    svg = '<svg width="10pt" height="10pt"><g class="node"><title>x</title></g></svg>'
    o = outline(html_report(a, kb, svg=svg, generated_at=WHEN))
    assert "reasoning-graph" in o.ids and "svg" in o.tags and "graph-missing" not in o.ids


def test_user_text_is_escaped(run: object, kb: KnowledgeBase) -> None:
    nasty = '<script>alert("x")</script> & </table><img src=x onerror=alert(1)> \\ "q"'
    a = run({"case_id": nasty[:60], "description": nasty,  # type: ignore[operator]
             "pump": {"model": "synchromed_ii", "reservoir_ml": 20},
             "presentation": {"problems": ["overdose"]}})
    page = html_report(a, kb, generated_at=WHEN)
    assert "<script" not in page and "<img" not in page
    assert html.escape(nasty) in page and html.escape(nasty[:60]) in page
    outline(page)


def test_report_time_is_reproducible(assessments: dict[str, Assessment], kb: KnowledgeBase,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    a = next(iter(assessments.values()))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = html_report(a, kb)
    assert "2023-11-14 22:13:20 UTC" in first and html_report(a, kb) == first


def test_report_file_is_utf8(tmp_path: Path, assessments: dict[str, Assessment],
                             kb: KnowledgeBase) -> None:
    a = next(iter(assessments.values()))
    path = tmp_path / "report.html"
    path.write_text(html_report(a, kb, generated_at=WHEN), encoding="utf-8")
    assert '<meta charset="utf-8">' in path.read_text(encoding="utf-8")


def test_report_opens_with_the_next_step_and_the_case_in_clinical_order(
        assessor: Assessor) -> None:
    from pumpdx.viz.clinicianview import clinician_view

    a = assessor.assess(load_case(str(CASES_DIR / "maino_fentanyl_overinfusion.yaml")))
    page = html_report(a, assessor.kb, generated_at=WHEN)
    next_step = page.index('id="next-step"')
    assert html.escape(a.next_step) in page[next_step:next_step + 400]
    description = page.index(html.escape(" ".join(str(a.case["description"]).split()[:6])))
    assert next_step < description < page.index('id="conclusions"')
    # the conclusions come in the order of the clinician view, every one of them
    order = [cid for item in clinician_view(a, assessor.kb).shown() for cid in item.ids
             if cid in {c.id for c in a.conclusions}]
    positions = [page.index(f'id="concl-{cid}"') for cid in order]
    assert positions == sorted(positions)
    assert page.index('id="concl-titrated_naloxone"') < page.index('id="concl-laboratory_studies"')
