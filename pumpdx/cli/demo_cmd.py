"""pumpdx demo: assess every bundled example case and write the results."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pumpdx.engine.assess import default_assessor
from pumpdx.engine.inputs import load_case
from pumpdx.kb.loader import KnowledgeBase, default_kb_dir
from pumpdx.viz.textview import format_assessment

from . import assess_cmd
from .common import EXIT_OK, write_outputs


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="assess the bundled example cases (case reports of the review)")
    p.add_argument("--out", type=Path, default=Path("pumpdx-output"),
                   help="output folder (default: ./pumpdx-output)")
    p.add_argument("--quiet", action="store_true", help="do not print the first assessment")
    p.set_defaults(handler=run)


def bundled_cases() -> list[Path]:
    return sorted((default_kb_dir() / "cases").glob("*.yaml"))


def run(args: argparse.Namespace) -> int:
    assessor = default_assessor()
    cases = bundled_cases()
    written = []
    notes: list[str] = []
    rulebook = _write_rulebook(args.out, assessor.kb, notes)
    for i, path in enumerate(cases):
        assessment = assessor.assess(load_case(str(path)))
        if i == 0 and not args.quiet:
            print(format_assessment(assessment, assessor.kb))
        folder = args.out / path.stem
        write_outputs(folder, assess_cmd.output_files(
            assessment, assessor.kb, notes, rulebook_href="../rulebook.svg" if rulebook else ""))
        n_urgent = len(assessment.by_kind("urgent_action"))
        written.append(f"  {folder}/  ({len(assessment.conclusions)} conclusions, "
                       f"{n_urgent} urgent, {len(assessment.questions)} questions, "
                       f"{len(assessment.trace.firings)} firings)")
    print(f"Assessed {len(cases)} bundled cases with knowledge base {assessor.kb.version}.")
    print(f"Output folder: {args.out.resolve()}")
    print("\n".join(written))
    if rulebook:
        print(f"Rulebook map (linked from every report): {args.out / 'rulebook.svg'}")
    print("Each folder: assessment.json, assessment.txt, reasoning.dot, "
          + ("" if notes else "reasoning.svg, ") + "report.html (open it in a browser).")
    for note in notes:
        print(f"pumpdx: note: {note}", file=sys.stderr)
    return EXIT_OK


def _write_rulebook(out: Path, kb: KnowledgeBase, notes: list[str]) -> bool:
    """The rulebook map once for all reports (rulebook.svg); False without Graphviz."""
    from pumpdx.viz.dot import RenderError, render
    from pumpdx.viz.rulebook_dot import rulebook_dot

    try:
        svg = render(rulebook_dot(kb), "svg")
    except RenderError as exc:
        if not exc.missing:  # a missing Graphviz is said once, for reasoning.svg
            notes.append(f"rulebook.svg not written: {exc}")
        return False
    write_outputs(out, {"rulebook.svg": svg})
    return True
