"""pumpdx kb diff OLD_KB NEW_KB: what an edit of the rulebook changes.

Lists the algorithms, rules, concepts and parameters added, removed or changed, then
runs every case and scenario file on both rulebooks and lists, per file, the
conclusions gained (+) and lost (-) with the rules that derive them. Exit code 0,
or 1 when a file could not be run on one of the rulebooks.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pumpdx.engine.assess import Assessor
from pumpdx.engine.casesuite import collect_files, load_item, shown_path
from pumpdx.engine.kbdiff import diff_kbs, render_text

from .common import EXIT_FAILED, EXIT_OK, CommandError
from .kb_test_cmd import load_kb_arg


def register(kb_sub: Any) -> None:
    p = kb_sub.add_parser("diff", help="what changes between two rulebooks, rule by rule and "
                          "case by case", description=__doc__)
    p.add_argument("old_kb", type=Path, metavar="OLD_KB", help="the knowledge-base folder before")
    p.add_argument("new_kb", type=Path, metavar="NEW_KB", help="the knowledge-base folder after")
    p.add_argument("--cases", type=Path, nargs="+", action="extend", metavar="DIR",
                   help="case and scenario files or folders (default: NEW_KB's cases/ and "
                        "scenarios/)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    for kb_dir in (args.old_kb, args.new_kb):
        if not kb_dir.is_dir():
            raise CommandError(f"{kb_dir}: knowledge-base folder not found")
    old_kb, new_kb = load_kb_arg(args.old_kb), load_kb_arg(args.new_kb)
    for path in args.cases or []:
        if not path.exists():
            raise CommandError(f"{path}: no such file or folder")
    roots = args.cases or [p for p in (new_kb.root / "cases", new_kb.root / "scenarios")
                           if p.exists()]
    files = collect_files(roots)
    if not files:
        raise CommandError("no case or scenario files in " + ", ".join(map(str, roots)))
    items = [load_item(p, shown_path(p)) for p in files]
    diff = diff_kbs(Assessor(old_kb), Assessor(new_kb), items)
    if args.json:
        print(diff.model_dump_json(indent=2))
    else:
        print(render_text(diff, str(args.old_kb), str(args.new_kb)), end="")
    return EXIT_FAILED if any(c.error for c in diff.cases) else EXIT_OK
