"""pumpdx assess CASE: print the assessment of one case (or write it to --out DIR)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from pumpdx.engine.assess import default_assessor
from pumpdx.engine.runtime import RunawayError
from pumpdx.kb.issues import KBLoadError
from pumpdx.kb.loader import KnowledgeBase
from pumpdx.viz.textview import DEFAULT_WIDTH, format_assessment

from .common import EXIT_INTERNAL, EXIT_OK, CommandError, kb_error, read_case, write_outputs


def register(sub: Any) -> None:
    p = sub.add_parser("assess", help="assess one case (JSON or YAML; '-' reads stdin)")
    p.add_argument("case", help="case file (.json, .yaml) or - for stdin")
    p.add_argument("--json", action="store_true", help="print the Assessment JSON")
    p.add_argument("--trace", action="store_true", help="also print the reasoning trace")
    p.add_argument("--explain", action="store_true",
                   help="show the concept ids, rules and firing numbers behind each item")
    p.add_argument("--all", action="store_true", dest="all_items",
                   help="also list the background items the clinician view leaves out")
    p.add_argument("--no-trace", action="store_true", help=argparse.SUPPRESS)  # the default now
    p.add_argument("--out", type=output_folder,
                   help="write the assessment files into this folder (replacing an earlier "
                   "assessment's files as a whole)")
    p.add_argument("--kb", type=Path, help="knowledge-base folder (default: the shipped one)")
    p.add_argument("--graph-format", action="append", choices=["png", "pdf"], default=[],
                   help="with --out: also write reasoning.png / reasoning.pdf (repeatable)")
    p.add_argument("--log", nargs="?", const="", default=None, metavar="URL",
                   help="store the decision in the decision log: the default SQLite file, "
                        "or a file path, sqlite:///PATH or postgresql://USER@HOST/DB "
                        "(put --log after the case file)")
    p.set_defaults(handler=run)


def output_folder(text: str) -> Path:
    """--out: a folder; an empty path is an error (it would mean this folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("empty path; give a folder")
    return Path(text)


def output_files(assessment: Any, kb: KnowledgeBase | None = None,
                 notes: list[str] | None = None, rulebook_href: str | None = None
                 ) -> dict[str, str | bytes]:
    """Files written by --out and by demo: the assessment (JSON, text) and its audit
    views (reasoning.dot, reasoning.svg, report.html, rulebook.svg; see pumpdx.viz.audit).
    With `rulebook_href` the report links that map instead of getting its own.

    `kb` (the assessment's knowledge base) adds rule titles and citations to the
    graph. Without Graphviz's `dot` there is no reasoning.svg and the one-line
    reason is appended to `notes`; when `dot` is there but fails, RenderError.
    """
    from pumpdx.viz.audit import audit_files  # the graph stack loads only when needed

    files: dict[str, str | bytes] = {
        "assessment.json": assessment.model_dump_json(indent=2) + "\n",
        "assessment.txt": format_assessment(assessment, kb if kb is not None else
                                            default_assessor().kb,
                                            trace=True, explain=True, all_items=True),
    }
    if rulebook_href is None:
        audit = audit_files(assessment, kb, rulebook="case")
    else:
        audit = audit_files(assessment, kb, rulebook="link", rulebook_href=rulebook_href)
    files.update(audit.files)
    if audit.problem and notes is not None and audit.problem not in notes:
        notes.append(audit.problem)
    return files


def log_decision(assessment: Any, url: str) -> None:
    """Store the decision before anything is printed: no output without its log entry."""
    from pumpdx.decisionlog import DecisionLog, LogError

    try:
        with DecisionLog.open(url) as log:
            new = log.record(assessment, source="cli")
            where = log.shown()
    except LogError as exc:
        raise CommandError(str(exc)) from None
    state = "logged" if new else "already in the log:"
    print(f"pumpdx: {state} {assessment.decision_id} ({where})", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    case = read_case(args.case)
    try:
        assessor = default_assessor(args.kb)
    except KBLoadError as exc:
        raise kb_error(exc) from None
    try:
        assessment = assessor.assess(case)
    except RunawayError as exc:
        raise CommandError(f"{args.case}: {exc}") from None
    if args.log is not None:
        log_decision(assessment, args.log)
    if args.out is not None:
        notes: list[str] = []
        from pumpdx.viz.dot import RenderError, render

        try:
            files = output_files(assessment, assessor.kb, notes)
            for fmt in dict.fromkeys(args.graph_format):
                try:
                    files[f"reasoning.{fmt}"] = render(str(files["reasoning.dot"]), fmt)
                except RenderError as exc:
                    if not exc.missing:
                        raise
                    notes.append(f"reasoning.{fmt} not written: {exc}")
        except RenderError as exc:
            raise CommandError(f"{args.out}: nothing written: {exc}", EXIT_INTERNAL) from None
        write_outputs(args.out, files)
        print(f"wrote {', '.join(files)} to {args.out}")
        for note in notes:
            print(f"pumpdx: note: {note}", file=sys.stderr)
        return EXIT_OK
    if args.json:
        print(assessment.model_dump_json(indent=2))
    else:
        color, width = terminal_style(sys.stdout)
        print(format_assessment(assessment, assessor.kb, trace=args.trace and not args.no_trace,
                                explain=args.explain, all_items=args.all_items, color=color,
                                width=width), end="")
    return EXIT_OK


def terminal_style(stream: Any) -> tuple[bool, int]:
    """(colour, width) for text written to `stream`: colour only on a terminal without
    NO_COLOR (https://no-color.org); the width of the terminal, else the default."""
    try:
        tty = bool(stream.isatty())
    except (AttributeError, ValueError):
        tty = False
    if not tty:
        return False, DEFAULT_WIDTH
    color = not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
    return color, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
