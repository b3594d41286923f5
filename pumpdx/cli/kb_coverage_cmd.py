"""pumpdx kb coverage: which sections, figures and branches of the review have rules,
which rules the scenarios exercise, and which rules fire in no case at all.

Scenarios are the KB's scenarios/ folder and example cases its cases/ folder, or the
CASES given (each file is a scenario or a plain case by its keys). Regenerate the
documentation table with:  pumpdx kb coverage --markdown -o docs/coverage.md

--branches: branch coverage by the scenarios (every any: alternative exercised; every
not: seen holding and blocking; every field test seen passing and failing).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pumpdx.engine.assess import Assessor
from pumpdx.engine.branchcov import compute_branch_coverage, render_branches
from pumpdx.engine.casesuite import collect_files, run_files
from pumpdx.engine.coverage import compute_coverage, render

from .common import EXIT_OK, CommandError, write_atomic
from .kb_test_cmd import load_kb_arg


def register(kb_sub: Any) -> None:
    p = kb_sub.add_parser("coverage", help="which review sections and branches have rules; "
                          "which rules the scenarios exercise", description=__doc__,
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cases", nargs="*", type=Path, metavar="CASES",
                   help="case and scenario files or folders (default: the KB's scenarios/ "
                        "and cases/)")
    p.add_argument("--kb", type=Path, metavar="DIR",
                   help="knowledge-base folder (default: the shipped one)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print JSON")
    fmt.add_argument("--markdown", action="store_true", help="print Markdown (docs/coverage.md)")
    p.add_argument("--branches", action="store_true",
                   help="branch coverage instead: every any: alternative, both outcomes of "
                        "every not: and every field test, by the scenarios")
    p.add_argument("-o", "--output", type=Path, metavar="FILE",
                   help="write to FILE (atomically) instead of printing")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    kb = load_kb_arg(args.kb)
    for path in args.cases:
        if not path.exists():
            raise CommandError(f"{path}: no such file or folder")
    roots = list(args.cases) or [kb.root / "scenarios", kb.root / "cases"]
    assessor = Assessor(kb)
    runs = run_files(assessor, collect_files(p for p in roots if p.exists()), kb.root.parent)
    scenarios = [r for r in runs if r.item.kind == "scenario"]
    cases = [r for r in runs if r.item.kind == "case"]
    if args.branches:
        branches = compute_branch_coverage(kb, scenarios)
        text = (branches.model_dump_json(indent=2) + "\n" if args.json else
                render_branches(branches, "markdown" if args.markdown else "text"))
    else:
        cov = compute_coverage(kb, scenarios, cases)
        text = (cov.model_dump_json(indent=2) + "\n" if args.json else
                render(cov, "markdown" if args.markdown else "text"))
    if args.output is not None:
        try:
            write_atomic(args.output, text, private=False)
            args.output.chmod(0o644)
        except OSError as exc:
            raise CommandError(f"{args.output}: cannot write: {exc.strerror}") from None
    else:
        print(text, end="")
    return EXIT_OK
