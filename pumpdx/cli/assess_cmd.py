"""pumpdx assess CASE: print the assessment of one case (or write it to --out DIR)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pumpdx.engine.assess import default_assessor
from pumpdx.engine.textreport import format_assessment
from pumpdx.kb.issues import KBLoadError

from .common import EXIT_OK, kb_error, read_case, write_outputs


def register(sub: Any) -> None:
    p = sub.add_parser("assess", help="assess one case (JSON or YAML; '-' reads stdin)")
    p.add_argument("case", help="case file (.json, .yaml) or - for stdin")
    p.add_argument("--json", action="store_true", help="print the Assessment JSON")
    p.add_argument("--no-trace", action="store_true", help="leave the firing list out")
    p.add_argument("--out", type=Path, help="write assessment files into this folder")
    p.add_argument("--kb", type=Path, help="knowledge-base folder (default: the shipped one)")
    p.set_defaults(handler=run)


def output_files(assessment: Any) -> dict[str, str | bytes]:
    """Files written by --out and by demo (extended by the audit views when present)."""
    files: dict[str, str | bytes] = {
        "assessment.json": assessment.model_dump_json(indent=2) + "\n",
        "assessment.txt": format_assessment(assessment),
    }
    return files


def run(args: argparse.Namespace) -> int:
    case = read_case(args.case)
    try:
        assessor = default_assessor(args.kb)
    except KBLoadError as exc:
        raise kb_error(exc) from None
    assessment = assessor.assess(case)
    if args.out is not None:
        write_outputs(args.out, output_files(assessment))
        print(f"wrote {', '.join(output_files(assessment))} to {args.out}")
        return EXIT_OK
    if args.json:
        print(assessment.model_dump_json(indent=2))
    else:
        print(format_assessment(assessment, trace=not args.no_trace), end="")
    return EXIT_OK
