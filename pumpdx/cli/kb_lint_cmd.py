"""pumpdx kb lint: every problem of a knowledge base, as file:line: rule-id: message.

First the load errors (format, unknown names, citations); when the KB loads, the
semantic checks of pumpdx.kb.lint (rules that can never fire, concepts no rule
concludes, facts no rule reads, duplicate conditions, unused parameters, threshold
gaps and overlaps, ...), and the contradiction check: a case (a scenario, or two
merged) that concludes two concepts declared contradicting, as a witness.
With --sources DIR (the folder holding the source texts, e.g. ../shared/seeds), also
every citation's quote against the text of the section it cites (the domain notes
from --notes FILE, default DIR/../domain-notes.md), and the share of citations that
carry a quote. Exit code 1 when there is any problem; 2 when a folder or source text
cannot be read.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from pumpdx.kb.issues import KBIssue, KBLoadError
from pumpdx.kb.lint import lint_kb
from pumpdx.kb.loader import default_kb_dir, load_kb
from pumpdx.kb.quotecheck import QuoteReport, check_quotes
from pumpdx.kb.sourcetext import SourceTextError, load_sources

from .common import EXIT_FAILED, EXIT_OK, CommandError, add_kb_option, kb_option


def register(kb_sub: Any) -> None:
    p = kb_sub.add_parser("lint", help="check a knowledge base: format, names, citations, "
                          "rules that never fire, unused concepts and parameters",
                          description=__doc__)
    add_kb_option(p, folder_positional=True)
    p.add_argument("--sources", type=Path, metavar="DIR",
                   help="folder with the source texts (e.g. ../shared/seeds): check every "
                        "citation's quote against the section it cites")
    p.add_argument("--notes", type=Path, metavar="FILE",
                   help="the domain notes (default: DIR/../domain-notes.md; needs --sources)")
    p.add_argument("--json", action="store_true", help="print the problems as JSON")
    p.add_argument("--no-witness-search", action="store_true",
                   help="skip the contradiction check (it runs the scenarios and cases)")
    p.set_defaults(handler=run)


_UNION_NOISE = re.compile(r": Input should be a valid (boolean|integer|number|string)$")


def without_union_noise(issues: list[KBIssue]) -> list[KBIssue]:
    """Drop pydantic's "Input should be a valid <type>" lines for a value that also has a
    real error at the same place (an unknown operator in a field test gives one line per
    alternative of the value type; the author needs only the unknown key)."""
    def place(i: KBIssue) -> tuple[str, int, str]:
        return i.file, i.line, i.rule_id

    real = {place(i) for i in issues if not _UNION_NOISE.search(i.message)}
    return [i for i in issues if not (_UNION_NOISE.search(i.message) and place(i) in real)]


def lint_dir(kb_dir: Path | None, sources: Path | None = None, notes: Path | None = None,
             witnesses: bool = True
             ) -> tuple[str | None, list[KBIssue], QuoteReport | None]:
    """(KB version or None when it does not load, every problem, the quote check when
    `sources` is given and the KB loads). With `witnesses`, also the contradiction
    check, which runs the KB's scenarios and cases (and merges of them)."""
    if kb_dir is not None and not kb_dir.is_dir():
        raise CommandError(f"{kb_dir}: knowledge-base folder not found")
    if notes is not None and sources is None:
        raise CommandError("--notes needs --sources (the folder with the source texts)")
    try:
        kb = load_kb(kb_dir)
    except KBLoadError as exc:
        return None, without_union_noise(list(exc.issues)), None
    issues = lint_kb(kb)
    if witnesses:
        from pumpdx.engine.assess import Assessor
        from pumpdx.engine.casesuite import collect_files, load_item, shown_path
        from pumpdx.engine.contradictions import check_contradictions

        items = [load_item(p, shown_path(p)) for p in collect_files([kb.root])]
        issues = sorted(set(issues) | set(check_contradictions(Assessor(kb), items)))
    if sources is None:
        return kb.version, issues, None
    try:
        texts = load_sources(kb.sources, sources, notes)
    except SourceTextError as exc:
        raise CommandError(str(exc)) from None
    report = check_quotes(kb, texts)
    return kb.version, sorted(issues + report.issues), report


def _coverage_line(report: QuoteReport) -> str:
    return (f"quotes: {report.quoted} of {report.citations} citations carry a quote "
            f"({report.share:.1f} %)")


def run(args: argparse.Namespace) -> int:
    folder = kb_option(args)
    version, issues, report = lint_dir(folder, args.sources, args.notes,
                                       witnesses=not args.no_witness_search)
    shown = str(folder or default_kb_dir())
    if args.json:
        out: dict[str, Any] = {
            "kb_dir": shown, "kb_version": version, "loads": version is not None,
            "issues": [{"file": i.file, "line": i.line, "rule_id": i.rule_id,
                        "message": i.message, "check": i.check} for i in issues],
        }
        if report is not None:
            out["quotes"] = {"citations": report.citations, "quoted": report.quoted,
                             "share_percent": round(report.share, 1)}
        print(json.dumps(out, indent=2))
        return EXIT_FAILED if issues else EXIT_OK
    for issue in issues:
        print(f"{issue}  [{issue.check}]")
    if report is not None:
        print(_coverage_line(report))
    if version is None:
        print(f"{shown}: {len(issues)} load error(s); the semantic checks run once it loads")
    elif issues:
        by_check = Counter(i.check for i in issues)
        print(f"{shown}: {len(issues)} problem(s) ("
              + ", ".join(f"{n} {c}" for c, n in sorted(by_check.items())) + ")")
    else:
        print(f"{shown}: no problems (knowledge base {version})")
    return EXIT_FAILED if issues else EXIT_OK
