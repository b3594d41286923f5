"""Coverage of the review by the knowledge base (`pumpdx kb coverage`).

Which sections and figures of the sources have rules (rule `cite`), which branches
(rule and scenario `branch` labels) have rules and scenarios, which rules fire in at
least one scenario (exercised), and which fire in no scenario and no example case.
Rendered as a text table, Markdown (docs/coverage.md) or JSON; the output depends
only on the KB and the case files, so it is reproducible.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel

from pumpdx.kb.lint import step_sections
from pumpdx.kb.loader import KnowledgeBase

from .casesuite import CaseRun

FIGURE = re.compile(r"^\s*Fig(?:ure|\.)?\s*([0-9A-Za-z.]+?)\s*:\s*(.*)$")
STEP = re.compile(r"^\s*Step\s+([0-9A-Za-z]+)\s*:\s*(.*)$")
SECTION = re.compile(r"^\s*§?\s*(\d+(?:\.\d+)*)\s*:\s*(.*)$")


class SectionRow(BaseModel):
    source: str
    section: str
    title: str
    rules: list[str]


class FigureRow(BaseModel):
    figure: str
    title: str
    rules: list[str]


class BranchRow(BaseModel):
    group: str
    group_title: str
    branch: str
    rules: list[str]
    scenarios: list[str]
    exercised: bool


class RuleRow(BaseModel):
    id: str
    algorithm: str
    file: str
    line: int
    scenarios: list[str]
    cases: list[str]


class Coverage(BaseModel):
    kb_version: str
    scenario_count: int
    case_count: int
    errors: list[str]
    sections: list[SectionRow]
    figures: list[FigureRow]
    branches: list[BranchRow]
    rules: list[RuleRow]

    def exercised(self) -> list[str]:
        return [r.id for r in self.rules if r.scenarios]

    def never_fired(self) -> list[str]:
        return [r.id for r in self.rules if not r.scenarios and not r.cases]


def branch_group(label: str, kb: KnowledgeBase) -> tuple[int, str, str]:
    """(sort rank, group, group title) of a branch label 'Fig. 11: ...', 'Step 3: ...',
    '7.1: ...'; other labels go to the group 'other'."""
    review = kb.sources.get("review")
    figures = list(review.figures) if review else []
    sections = list(review.sections) if review else []
    m = FIGURE.match(label)
    if m:
        fig = m.group(1)
        title = review.figures.get(fig, "not in the review") if review else ""
        rank = figures.index(fig) if fig in figures else len(figures)
        return rank, f"Fig. {fig}", title
    m = STEP.match(label)
    if m and m.group(1) not in step_sections(kb):
        return 2000, f"Step {m.group(1)}", "not in the review"
    m = m or SECTION.match(label)
    if m:
        sec = step_sections(kb)[m.group(1)] if m.re is STEP else m.group(1)
        if review and sec in review.sections:
            return 1000 + sections.index(sec), f"§{sec}", review.sections[sec]
        return 2000, f"§{sec}", "not in the review"
    return 3000, "other", ""


def compute_coverage(kb: KnowledgeBase, scenarios: Sequence[CaseRun],
                     cases: Sequence[CaseRun]) -> Coverage:
    sections: list[SectionRow] = []
    for source, info in kb.sources.items():
        for sec, title in info.sections.items():
            rules = [lr.rule.id for lr in kb.rules
                     if any(c.source == source and c.section == sec for c in lr.rule.cite)]
            sections.append(SectionRow(source=source, section=sec, title=title, rules=rules))
    review = kb.sources.get("review")
    figures = [FigureRow(figure=fig, title=title,
                         rules=[lr.rule.id for lr in kb.rules
                                if any(c.source == "review" and c.figure == fig
                                       for c in lr.rule.cite)])
               for fig, title in (review.figures.items() if review else ())]

    fired_in_scenario: dict[str, list[str]] = {lr.rule.id: [] for lr in kb.rules}
    fired_in_case: dict[str, list[str]] = {lr.rule.id: [] for lr in kb.rules}
    for runs, into in ((scenarios, fired_in_scenario), (cases, fired_in_case)):
        for run in runs:
            for rule in sorted(run.fired_rules()):
                if rule in into:
                    into[rule].append(run.item.id)

    labels: dict[str, tuple[list[str], list[str]]] = {}
    for lr in kb.rules:
        if lr.rule.branch:
            labels.setdefault(lr.rule.branch, ([], []))[0].append(lr.rule.id)
    for run in scenarios:
        spec = run.item.spec
        if spec is not None and spec.branch:
            labels.setdefault(spec.branch, ([], []))[1].append(run.item.id)
    branches = []
    for label, (rules, scen) in labels.items():
        rank, group, title = branch_group(label, kb)
        branches.append((rank, label, BranchRow(
            group=group, group_title=title, branch=label, rules=rules, scenarios=scen,
            exercised=any(fired_in_scenario.get(r) for r in rules))))
    branches.sort(key=lambda t: (t[0], t[1]))

    rule_rows = [RuleRow(id=lr.rule.id, algorithm=lr.algorithm, file=lr.file, line=lr.line,
                         scenarios=fired_in_scenario[lr.rule.id],
                         cases=fired_in_case[lr.rule.id])
                 for lr in kb.rules]
    errors = [f"{r.item.path}: {r.error or r.item.error}" for r in (*scenarios, *cases)
              if r.status == "ERROR"]
    return Coverage(kb_version=kb.version, scenario_count=len(scenarios),
                    case_count=len(cases), errors=errors, sections=sections, figures=figures,
                    branches=[b for _r, _l, b in branches], rules=rule_rows)


# -- rendering -------------------------------------------------------------------
Style = Literal["text", "markdown"]


def _ids(ids: Sequence[str], limit: int = 6) -> str:
    if not ids:
        return "-"
    shown = ", ".join(ids[:limit])
    return f"{len(ids)}: {shown}" + (f", ... (+{len(ids) - limit})" if len(ids) > limit else "")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], style: Style) -> list[str]:
    if style == "markdown":
        def cell(text: str) -> str:
            return text.replace("|", "\\|")
        return ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers),
                *("| " + " | ".join(cell(c) for c in row) + " |" for row in rows)]
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    widths[-1] = 0  # the last column is not padded
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return [fmt.format(*headers).rstrip(), fmt.format(*("-" * len(h) for h in headers)).rstrip(),
            *(fmt.format(*row).rstrip() for row in rows)]


def _heading(text: str, style: Style, level: int = 2) -> list[str]:
    if style == "markdown":
        return ["", "#" * level + " " + text, ""]
    return ["", text.upper() if level == 2 else text, ""]


def summary_lines(cov: Coverage) -> list[str]:
    review = [s for s in cov.sections if s.source == "review"]
    other = [s for s in cov.sections if s.source != "review"]
    figs_with = [f for f in cov.figures if f.rules]
    lines = [
        f"Review sections cited by at least one rule: {sum(bool(s.rules) for s in review)} "
        f"of {len(review)}",
    ]
    if other:
        lines.append(f"Other source sections cited by a rule: {sum(bool(s.rules) for s in other)}"
                     f" of {len(other)}")
    lines += [
        f"Review figures cited by at least one rule: {len(figs_with)} of {len(cov.figures)}",
        f"Branches with rules: {sum(bool(b.rules) for b in cov.branches)} of "
        f"{len(cov.branches)}; exercised by a scenario: "
        f"{sum(b.exercised for b in cov.branches)}",
        f"Rules exercised by at least one scenario: {len(cov.exercised())} of {len(cov.rules)}",
        f"Rules that fire in no scenario and no example case: {len(cov.never_fired())}",
    ]
    return lines


def render(cov: Coverage, style: Style) -> str:
    md = style == "markdown"
    out: list[str] = []
    if md:
        out += ["# Knowledge-base coverage", "",
                "Generated by `pumpdx kb coverage --markdown -o docs/coverage.md`; do not edit "
                "by hand (see docs/authoring-tools.md).", ""]
    out.append(f"Knowledge base {cov.kb_version}: {len(cov.rules)} rules, "
               f"{cov.scenario_count} scenarios, {cov.case_count} example cases.")
    out += _heading("Summary", style)
    out += [("- " if md else "  ") + line for line in summary_lines(cov)]
    if cov.errors:
        out += _heading("Case files that could not be run", style)
        out += [("- " if md else "  ") + e for e in cov.errors]
    def ids(values: Sequence[str]) -> str:
        return _ids(values) if md else str(len(values) or "-")

    out += _heading("Sections", style)
    out += _table(["source", "section", "rules citing it", "title"] if not md else
                  ["source", "section", "title", "rules citing it"],
                  [[s.source, s.section, ids(s.rules), s.title] if not md else
                   [s.source, s.section, s.title, ids(s.rules)] for s in cov.sections], style)
    out += _heading("Figures of the review", style)
    out += _table(["figure", "rules citing it", "title"] if not md else
                  ["figure", "title", "rules citing it"],
                  [[f.figure, ids(f.rules), f.title] if not md else
                   [f.figure, f.title, ids(f.rules)] for f in cov.figures], style)
    out += _heading("Branches (rule and scenario `branch` labels)", style)
    if md:
        out += _table(["group", "branch", "rules", "scenarios", "exercised"],
                      [[b.group, b.branch, _ids(b.rules), _ids(b.scenarios),
                        "yes" if b.exercised else "NO"] for b in cov.branches], style)
    else:
        out += _table(["group", "rules", "scenarios", "exercised", "branch"],
                      [[b.group, ids(b.rules), ids(b.scenarios),
                        "yes" if b.exercised else "NO", b.branch] for b in cov.branches], style)
    out += _heading("Rules", style)
    out += _table(["rule", "algorithm", "scenarios firing it", "example cases firing it"],
                  [[r.id, r.algorithm, str(len(r.scenarios)), str(len(r.cases))]
                   for r in cov.rules], style)
    never = [r for r in cov.rules if not r.scenarios and not r.cases]
    out += _heading("Rules that fire in no scenario and no example case", style)
    out += [("- " if md else "  ") + f"{r.id} ({r.file}:{r.line})" for r in never] or \
        [("- " if md else "  ") + "none"]
    return "\n".join(out).lstrip("\n") + "\n"
