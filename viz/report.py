"""The self-contained HTML audit report of one assessment.

One file, no network: inline CSS, the reasoning graph as inline SVG, no scripts,
no fonts or images to fetch, no links leaving the page. Every piece of text is
escaped (case descriptions and free-text findings are user input).
"""

from __future__ import annotations

import html
import os
from datetime import UTC, datetime
from typing import Any

from pumpdx.engine.assessment import Assessment, Conclusion, Question
from pumpdx.engine.trace import TraceFact
from pumpdx.kb.loader import KnowledgeBase

from . import graphview, style, whynot_html
from .clinicianview import ViewItem, clinician_view
from .graph import check_kb, fact_summary, firing_steps, format_value
from .textview import case_summary

CSS = """
body{font-family:Helvetica,Arial,sans-serif;margin:0 auto;max-width:1200px;padding:1.2em 2em;
color:#1a1a1a;line-height:1.4;font-size:15px}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin:1.6em 0 .5em;
border-bottom:2px solid #ddd;padding-bottom:.2em}h3{font-size:1.05em;margin:1em 0 .3em}
table{border-collapse:collapse;width:100%;margin:.4em 0;font-size:.92em}
th,td{border:1px solid #d4d4d4;padding:.25em .45em;text-align:left;vertical-align:top}
th{background:#f3f3f3}table.kv th{width:14em;font-weight:normal;color:#444}
table.kv table.kv{margin:0}dl.meta{display:grid;grid-template-columns:max-content auto;
gap:.15em 1em;margin:.6em 0}dl.meta dt{color:#555}dl.meta dd{margin:0;font-family:monospace}
.conclusion{border-left:6px solid #999;padding:.3em .7em;margin:.5em 0;background:#fafafa}
.conclusion .text{font-weight:bold}.small{font-size:.88em;color:#444}
.cite{display:inline-block;border:1px solid #bbb;border-radius:3px;padding:0 .3em;margin:.1em;
background:#fff;font-size:.88em}.conflict{border:2px solid #b3261e;background:#fbd9d6;
padding:.5em .8em}.note{border:1px dashed #999;padding:.6em .8em;background:#f7f7f7}
.graph{overflow:auto;border:1px solid #ddd;max-height:none;background:#fff}
.graph svg{display:block}code{font-size:.92em}tr.again td.decl{font-style:italic}
p.description{white-space:pre-wrap;background:#f7f7f7;padding:.5em .8em}
.nextstep{border:2px solid #b3261e;background:#fdf0ef;padding:.5em .8em;font-size:1.1em;
margin:.6em 0}.item{border:1px solid #ccc;padding:.3em .6em;margin:.6em 0}
.item>.text{font-weight:bold}.item ul{margin:.2em 0}
@media print{.graph{overflow:visible}}
"""


def report_time(now: datetime | None = None) -> datetime:
    """The report's time: `now`, else SOURCE_DATE_EPOCH (reproducible builds), else now."""
    if now is not None:
        return now
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.now(UTC)


def e(value: object) -> str:
    return html.escape(str(value), quote=True)


def fact_text(fact: TraceFact) -> str:
    summary = "; ".join(fact_summary(fact.type, fact.content))
    return f"#{fact.id} {fact.type}" + (f" ({summary})" if summary else "")


def _fact_link(a: Assessment, fact_id: int) -> str:
    try:
        text = fact_text(a.trace.fact(fact_id))
    except KeyError:
        text = f"#{fact_id} (not in the trace)"
    return f'<a href="#fact-{fact_id}">{e(text)}</a>'


def _cites(labels: list[str]) -> str:
    return " ".join(f'<span class="cite">{e(c)}</span>' for c in labels) or "(none)"


def _firing_links(seqs: list[int]) -> str:
    return ", ".join(f'<a href="#firing-{s}">#{s}</a>' for s in seqs)


def _value_html(value: Any) -> str:
    if isinstance(value, dict):
        return _kv_table(value)
    if isinstance(value, list):
        if not value:
            return "<i>none</i>"
        if all(isinstance(v, dict) for v in value):
            return "".join(_kv_table(v) for v in value)
        return e(", ".join(format_value(v) for v in value))
    return e(format_value(value))


def _kv_table(data: dict[str, Any]) -> str:
    rows = "".join(f"<tr><th>{e(k)}</th><td>{_value_html(v)}</td></tr>"
                   for k, v in data.items())
    return f'<table class="kv">{rows}</table>'


def cited_quotes(c: Conclusion, kb: KnowledgeBase | None) -> list[tuple[str, str]]:
    """(citation label, verbatim quote) of the concept and of the rules that drew it, in
    that order, each pair once: the source text an auditor can check the conclusion
    against."""
    if kb is None:
        return []
    cites = list(kb.concepts[c.id].cite) if c.id in kb.concepts else []
    for rule_id in c.rules:
        try:
            cites += kb.rule(rule_id).rule.cite
        except KeyError:
            continue
    pairs = [(cite.label(), cite.quote) for cite in cites if cite.quote]
    return list(dict.fromkeys(pairs))


def _quotes_html(pairs: list[tuple[str, str]]) -> str:
    if not pairs:
        return ""
    items = "".join(f'<li><span class="cite">{e(label)}</span> &ldquo;{e(quote)}&rdquo;</li>'
                    for label, quote in pairs)
    return f'<div class="small">quoted sources:<ul class="quotes">{items}</ul></div>'


def _conclusion_html(c: Conclusion, kb: KnowledgeBase | None) -> str:
    look = style.conclusion_look(c.kind)
    rules = ", ".join(f"<code>{e(r)}</code>" for r in c.rules)
    return (f'<div class="conclusion" id="concl-{e(c.id)}" '
            f'style="border-left-color:{look.border};background:{look.fill}">'
            f'<div class="text">{e(c.text)}</div>'
            f'<div class="small">{_cites(c.citations)} &middot; rule {rules}; firing '
            f'{_firing_links(c.derived_by)} &middot; <code>{e(c.id)}</code></div>'
            f"{_quotes_html(cited_quotes(c, kb))}</div>")


def _question_html(a: Assessment, q: Question, kb: KnowledgeBase | None) -> str:
    look = style.conclusion_look("question")
    firings = {f.seq: f for f in a.trace.firings}
    askers = []
    for asker in q.asked_by:
        firing = firings.get(asker.firing)
        because = ", ".join(_fact_link(a, fid) for fid in firing.matched) if firing else ""
        rule_notes = ""
        if kb is not None:
            try:
                notes = kb.rule(asker.rule).rule.notes
            except KeyError:
                notes = None
            rule_notes = f'<br><span class="small">rule notes: {e(notes)}</span>' if notes else ""
        askers.append(f'<li>rule <code>{e(asker.rule)}</code> &mdash; {e(asker.title)} '
                      f'(firing {_firing_links([asker.firing])})'
                      + (f"<br>because: {because}" if because else "") + rule_notes + "</li>")
    return (f'<div class="conclusion" id="concl-{e(q.id)}" '
            f'style="border-left-color:{look.border};background:{look.fill}">'
            f'<div class="text">{e(q.text)}</div>'
            f'<div class="small">needs: <code>{e(q.needs or "-")}</code> &middot; '
            f'{_cites(q.citations)} &middot; <code>{e(q.id)}</code></div>'
            f'<div class="small">asked by:<ul>{"".join(askers)}</ul></div></div>')


def _firing_table(a: Assessment, kb: KnowledgeBase | None) -> str:
    steps = firing_steps(a)
    facts = {f.id: f for f in a.trace.facts}
    rows = []
    for f in a.trace.firings:
        title = ""
        if kb is not None:
            try:
                title = kb.rule(f.rule).rule.title
            except KeyError:
                title = "(rule not in this knowledge base)"
        declared = []
        for fid in f.declared:
            again = fid in facts and facts[fid].derived_by != f.seq
            declared.append(_fact_link(a, fid) + (" <i>(again)</i>" if again else ""))
        rows.append(
            f'<tr id="firing-{f.seq}"><td>{f.seq}</td><td>{steps.get(f.seq, "")}</td>'
            f"<td><code>{e(f.rule)}</code></td><td>{e(title)}</td><td>{e(f.algorithm)}</td>"
            f"<td>{'<br>'.join(_fact_link(a, i) for i in f.matched) or '(no facts)'}</td>"
            f"<td>{'<br>'.join(declared) or '-'}</td></tr>")
    head = ("<tr><th>seq</th><th>step</th><th>rule</th><th>title</th><th>algorithm</th>"
            "<th>matched facts</th><th>declared facts</th></tr>")
    return f'<table class="firings" id="firing-table">{head}{"".join(rows)}</table>'


def _fact_table(a: Assessment) -> str:
    used: dict[int, list[int]] = {}
    for f in a.trace.firings:
        for fid in f.matched:
            used.setdefault(fid, []).append(f.seq)
    rows = []
    for fact in a.trace.facts:
        content = "<br>".join(e(line) for line in fact_summary(fact.type, fact.content))
        derived = _firing_links([fact.derived_by]) if fact.derived_by else "case"
        rows.append(f'<tr id="fact-{fact.id}"><td>{fact.id}</td><td>{e(fact.type)}</td>'
                    f"<td>{content}</td><td>{derived}</td>"
                    f"<td>{_firing_links(used.get(fact.id, [])) or '-'}</td></tr>")
    head = ("<tr><th>id</th><th>type</th><th>content</th><th>from</th>"
            "<th>matched by firing</th></tr>")
    return f'<table class="facts" id="fact-table">{head}{"".join(rows)}</table>'


def _item_html(a: Assessment, item: ViewItem, kb: KnowledgeBase | None) -> str:
    """One item of the clinician view: a conclusion, or the conclusions merged into it."""
    concl = {c.id: c for c in a.conclusions}
    asked = {q.id: q for q in a.questions}
    parts = [_conclusion_html(concl[i], kb) if i in concl else _question_html(a, asked[i], kb)
             for i in item.ids if i in concl or i in asked]
    if len(parts) == 1:
        return parts[0]
    head = (f'<div class="text">{e(item.text)}</div>' if item.lines else
            '<div class="small">one item in the clinician view: the first restates the '
            "others</div>")
    return f'<div class="item" id="item-{e(item.id)}">{head}{"".join(parts)}</div>'


def _view_html(a: Assessment, kb: KnowledgeBase | None) -> list[str]:
    """Every conclusion and question, in the clinician view's order and merges."""
    view = clinician_view(a, kb)
    out = ['<h2 id="conclusions">Conclusions, in clinical order</h2>']
    if not a.conclusions:
        out.append("<p>No conclusion was drawn.</p>")
    for n, section in enumerate(view.sections, 1):
        out.append(f'<h3 id="section-{n}">{e(section.title.capitalize())} '
                   f"({len(section.items)})</h3>")
        out += [_item_html(a, item, kb) for item in section.items]
    if view.detail:
        out.append(f'<h3 id="section-background">Background ({len(view.detail)})</h3>')
        out += [_item_html(a, item, kb) for item in view.detail]
    out.append('<h2 id="questions">Open questions (in the order to ask them)</h2>')
    if view.questions or view.later_questions:
        out += [_item_html(a, item, kb) for item in view.questions]
        if view.later_questions:
            out.append('<h3 id="questions-later">Later, once the questions above are '
                       "answered</h3>")
            out += [_item_html(a, item, kb) for item in view.later_questions]
    else:
        out.append("<p>None.</p>")
    return out


def html_report(assessment: Assessment, kb: KnowledgeBase | None = None, *,
                svg: str | None = None, graph_note: str = "",
                generated_at: datetime | None = None, rulebook_href: str | None = None) -> str:
    """The audit report as one HTML page.

    `svg` is the reasoning graph as inline SVG (`dot.svg_for_html`); without it
    the page says why in `graph_note`. `generated_at` defaults to `report_time()`.
    `rulebook_href` links the rulebook map (a file next to the report).
    """
    a = assessment
    kb = check_kb(a, kb)
    when = report_time(generated_at).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    case_id = str(a.case.get("case_id") or "")
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>PumpDx audit report {e(a.decision_id)}</title>",
           f"<style>{CSS}{graphview.CSS}{whynot_html.CSS}</style></head><body>",
           f"<h1>PumpDx audit report{' &mdash; case ' + e(case_id) if case_id else ''}</h1>",
           '<dl class="meta" id="meta">',
           f"<dt>decision id</dt><dd>{e(a.decision_id)}</dd>",
           f"<dt>knowledge base</dt><dd>{e(a.kb_version)}</dd>"]
    out += [f"<dt>engine: {e(k)}</dt><dd>{e(v)}</dd>" for k, v in sorted(a.engine.items())]
    out += [f"<dt>report made</dt><dd>{e(when)}</dd>",
            f"<dt>firings</dt><dd>{len(a.trace.firings)}</dd></dl>"]
    out.append('<p class="small">Decision support for clinicians: every conclusion below '
               "names the rules that drew it and the part of the review that says so. "
               "It does not replace clinical judgement.</p>")
    if rulebook_href:
        out.append(f'<p class="small" id="rulebook-link">The whole knowledge base as the '
                   f"flowcharts of the review, in the review's order: "
                   f'<a href="{e(rulebook_href)}">rulebook map</a>.</p>')

    summary = ("Case " + case_id + ": " if case_id else "Case: ") + case_summary(a.case)
    out.append(f'<div class="nextstep" id="next-step"><b>Next step:</b> {e(a.next_step)}</div>')
    out.append(f'<div id="case-summary"><p><b>{e(summary)}</b></p>')
    if a.case.get("description"):
        out.append(f'<p class="description">{e(a.case["description"])}</p>')
    if a.case.get("other_findings"):
        out.append('<p class="description" id="other-findings"><b>Other findings (as '
                   f'written; not used by the rules):</b> {e(a.case["other_findings"])}</p>')
    out.append("</div>")

    if a.conflicts:
        pairs = "".join(f"<li><code>{e(c.first)}</code> &harr; <code>{e(c.second)}</code></li>"
                        for c in a.conflicts)
        out.append('<div class="conflict" id="conflicts"><b>Conflicting conclusions: report '
                   f"this knowledge-base defect.</b><ul>{pairs}</ul></div>")

    out += _view_html(a, kb)

    out.append('<h2 id="graph">Reasoning graph</h2>')
    if svg:
        out.append('<p class="small">Findings (left) matched by rule firings (grouped by '
                   "algorithm, in columns by reasoning step) that declare facts and "
                   "conclusions; dotted lines lead to the review sections and figures cited. "
                   "Hover over a node for its full text; a rule firing links to its row "
                   "of the firing table.</p>")
        out.append(graphview.graph_view(svg, a))
    else:
        out.append(f'<p class="note" id="graph-missing">The reasoning graph is not drawn '
                   f"here: {e(graph_note or 'no SVG was made')}. The graph is in "
                   f"<code>reasoning.dot</code> next to this report.</p>")

    out.append(f'<h2 id="firings">Rule firings ({len(a.trace.firings)})</h2>')
    out.append(_firing_table(a, kb) if a.trace.firings else "<p>No rule fired.</p>")

    if kb is not None:
        out.append(whynot_html.why_not_section(a, kb))

    out.append('<h2 id="facts">Facts</h2>')
    out.append('<p class="small">Every fact of the trace: the case findings as the rules '
               "see them and the facts the firings declared.</p>")
    out.append(_fact_table(a))

    out.append('<h2 id="case">The case as entered</h2>')
    case = dict(a.case)
    description = case.pop("description", None)
    if description:
        out.append(f'<p class="description">{e(description)}</p>')
    out.append(_kv_table(case))
    out.append("</body></html>")
    return "\n".join(out) + "\n"
