"""pumpdx case template [--problem P]: print a commented YAML case to fill in."""

from __future__ import annotations

import argparse
from typing import Any

from pumpdx.engine.casetemplate import case_template, problems

from .common import EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser("case", help="help with writing a case (see: case template)")
    case_sub = p.add_subparsers(dest="case_command", metavar="COMMAND",
                                parser_class=type(p))
    t = case_sub.add_parser("template", help="print a commented YAML case to fill in")
    t.add_argument("--problem", choices=problems(), metavar="PROBLEM",
                   help="the presenting problem: " + ", ".join(problems())
                        + " (default: every section)")
    t.set_defaults(handler=run_template)


def run_template(args: argparse.Namespace) -> int:
    print(case_template(args.problem), end="")
    return EXIT_OK
