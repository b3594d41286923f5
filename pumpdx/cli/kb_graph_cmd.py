"""pumpdx kb graph --out FILE [--case CASE]: the rulebook map (and one case's path on it)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pumpdx.engine.assess import default_assessor
from pumpdx.kb.issues import KBLoadError
from pumpdx.viz.dot import FORMATS, RenderError, render

from .common import EXIT_OK, CommandError, kb_error, read_case, write_atomic

SUFFIXES = tuple(f".{f}" for f in FORMATS)


def register(kb_sub: Any) -> None:
    p = kb_sub.add_parser(
        "graph", help="draw the rulebook map: every algorithm, its rules and what links them",
        description="Draw the whole knowledge base as a graph: one box per algorithm, rules "
                    "linked through the facts and conclusions they read and declare. With "
                    "--case, that case's fired rules and facts are drawn strongly and the "
                    "rest faded. SVG, PNG and PDF need Graphviz's 'dot' program (exit code "
                    "2 with a note when it is missing); DOT never does.")
    p.add_argument("--out", type=Path, required=True,
                   help=f"output file; the format comes from its suffix ({', '.join(SUFFIXES)})")
    p.add_argument("--case", help="overlay the path of this case (.json, .yaml; - for stdin)")
    p.add_argument("--kb", type=Path, help="knowledge-base folder (default: the shipped one)")
    p.set_defaults(handler=run)


def output_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        shown = f"'{path.suffix}'" if path.suffix else "no suffix"
        raise CommandError(f"{path}: {shown} is not a graph format; allowed suffixes: "
                           f"{', '.join(SUFFIXES)}")
    return suffix[1:]


def run(args: argparse.Namespace) -> int:
    fmt = output_format(args.out)
    case = read_case(args.case) if args.case is not None else None
    try:
        assessor = default_assessor(args.kb)
    except KBLoadError as exc:
        raise kb_error(exc) from None
    assessment = assessor.assess(case) if case is not None else None
    from pumpdx.viz.rulebook_dot import rulebook_dot  # loads the graph stack

    source = rulebook_dot(assessor.kb, assessment)
    try:
        data = render(source, fmt)
    except RenderError as exc:
        raise CommandError(f"{args.out}: {exc}; a .dot file needs no Graphviz") from None
    try:
        write_atomic(args.out, data)
    except OSError as exc:
        raise CommandError(f"{args.out}: cannot write: {exc.strerror}") from None
    what = f"rulebook map of knowledge base {assessor.kb.version}"
    if assessment is not None:
        fired = len({f.rule for f in assessment.trace.firings})
        what += (f" with the path of {assessment.case.get('case_id') or 'the case'} "
                 f"({fired} of {len(assessor.kb.rules)} rules fired)")
    print(f"wrote {args.out}: {what}")
    return EXIT_OK
