"""The "Why not?" section of the HTML report: for every algorithm the case entered, the
concepts its rules can conclude that were not concluded, each with every rule that can
conclude it and the first condition of each that failed (pumpdx.engine.explain)."""

from __future__ import annotations

import html

from pumpdx.engine.assessment import Assessment
from pumpdx.engine.explain import ConditionFailure, RuleExplanation, SeenFact, explainer_for
from pumpdx.kb.loader import KnowledgeBase


def e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _fact(s: SeenFact) -> str:
    values = ", ".join(f"{e(k)} {'<i>not entered</i>' if v is None else '= ' + e(repr(v))}"
                       + (" <b>(fails)</b>" if k in s.failed else "")
                       for k, v in s.values.items())
    origin = (f', derived by firing <a href="#firing-{s.derived_by}">#{s.derived_by}</a>'
              if s.derived_by is not None else "")
    return f'<a href="#fact-{s.id}">#{s.id} {e(s.type)}</a>' + (
        f" ({values})" if values else "") + origin


def _failure(f: ConditionFailure) -> str:
    shown = f.message.split(": ", 1)[0] if f.reason in ("no_match", "blocked") else f.message
    out = [f"<code>{e(f.path)}</code> <code>{e(f.condition)}</code><br>"
           f'<span class="wn-{e(f.reason)}">&rarr; {e(shown)}</span>']
    if f.facts:
        out.append("<ul>" + "".join(f"<li>{_fact(s)}</li>" for s in f.facts) + "</ul>")
    if f.alternatives:
        out.append("<ul>" + "".join(f"<li>{_failure(a)}</li>" for a in f.alternatives)
                   + "</ul>")
    if f.needs:
        out.append("<ul>" + "".join(f"<li>{_rule(n)}</li>" for n in f.needs) + "</ul>")
    return "".join(out)


def _rule(r: RuleExplanation) -> str:
    head = f"rule <code>{e(r.rule)}</code> [{e(r.algorithm)}] <span class=\"small\">" \
           f"{e(r.where)}</span>"
    if r.status == "fired":
        return head + ": fired (" + ", ".join(
            f'<a href="#firing-{s}">#{s}</a>' for s in r.firings) + ")"
    if r.status == "not_expanded":
        return head + ": not fired (not expanded further)"
    if r.failure is None:
        return head + ": all conditions hold on the final facts"
    return head + ": not fired<br>" + _failure(r.failure)


CSS = """
details.whynot{margin:.2em 0 .2em .5em}details.whynot summary{cursor:pointer}
details.whynot ul{margin:.2em 0;padding-left:1.4em}.wn-not_entered{color:#8a4b00}
"""


def why_not_section(assessment: Assessment, kb: KnowledgeBase) -> str:
    explainer = explainer_for(kb)
    missing = explainer.not_concluded(assessment)
    out = ['<h2 id="why-not">Why not? (what the entered algorithms did not conclude)</h2>',
           '<p class="small">For each algorithm a rule of which fired, the conclusions and '
           "questions its rules can draw that this assessment did not, each with every rule "
           "that can draw it and the first of that rule's conditions that failed on the "
           "facts of this case (<code>pumpdx explain CASE --why-not CONCEPT</code>).</p>"]
    for algorithm, concepts in missing.items():
        if not concepts:
            continue
        title = kb.algorithms[algorithm].title if algorithm in kb.algorithms else algorithm
        out.append(f'<h3 id="why-not-{e(algorithm)}">{e(title)} ({len(concepts)})</h3>')
        for cid in concepts:
            w = explainer.why_not(assessment, cid)
            concept = kb.concepts[cid]
            items = "".join(f"<li>{_rule(r)}</li>" for r in w.rules)
            out.append(f'<details class="whynot" id="whynot-{e(cid)}"><summary>'
                       f"<code>{e(cid)}</code> ({e(concept.kind)}): {e(concept.text)}"
                       f"</summary><ul>{items}</ul></details>")
    return "\n".join(out)
