"""pumpdx kb test: run scenario tests (kb/scenarios/**.yaml) and report PASS / FAIL / ERROR.

A scenario fails when an expected conclusion is missing, a forbidden one appears, or
a safety property (pumpdx.engine.safety) is broken; it is an ERROR when the file
cannot be read or names concepts the knowledge base does not have.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pumpdx.engine.assess import Assessor
from pumpdx.engine.casesuite import CaseRun, collect_files, load_item, run_item, shown_path
from pumpdx.kb.issues import KBLoadError
from pumpdx.kb.loader import KnowledgeBase, default_kb_dir, load_kb

from .common import EXIT_FAILED, EXIT_OK, CommandError, kb_error


def register(kb_sub: Any) -> None:
    p = kb_sub.add_parser("test", help="run the scenario tests of the knowledge base",
                          description=__doc__)
    p.add_argument("cases", nargs="*", type=Path, metavar="CASES",
                   help="scenario files or folders (default: the scenarios/ folder of the KB)")
    p.add_argument("--kb", type=Path, metavar="DIR",
                   help="knowledge-base folder to test (default: the shipped one)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(handler=run)


def load_kb_arg(kb_dir: Path | None) -> KnowledgeBase:
    """The KB of a --kb / KB_DIR argument; a missing folder or a load error is bad input."""
    if kb_dir is not None and not kb_dir.is_dir():
        raise CommandError(f"{kb_dir}: knowledge-base folder not found")
    try:
        return load_kb(kb_dir)
    except KBLoadError as exc:
        raise kb_error(exc) from None


def scenario_files(paths: list[Path], kb: KnowledgeBase) -> list[Path]:
    for path in paths:
        if not path.exists():
            raise CommandError(f"{path}: no such file or folder")
    roots = paths or [kb.root / "scenarios"]
    files = collect_files(p for p in roots if p.exists())
    if not files:
        raise CommandError("no scenario files in " + ", ".join(map(str, roots)))
    return files


def format_run(run: CaseRun) -> list[str]:
    lines = [f"{run.status:<5}  {run.item.path}  {run.item.id}"]
    if run.item.kind == "case" and run.status == "PASS":
        lines[0] += "  (a case without expect/forbid: it ran)"
    if run.status == "ERROR":
        lines[0] += f": {run.error or run.item.error}"
        return lines
    result = run.result
    if result is not None and result.status == "FAIL":
        if result.missing:
            lines.append("       expected but not concluded: " + ", ".join(result.missing))
        if result.forbidden_present:
            lines.append("       forbidden but concluded: " + ", ".join(result.forbidden_present))
        lines.extend(f"         {f}" for f in result.firings)
    lines.extend(f"       safety: {v}" for v in run.safety)
    return lines


def run(args: argparse.Namespace) -> int:
    kb = load_kb_arg(args.kb)
    files = scenario_files(list(args.cases), kb)
    assessor = Assessor(kb)
    runs = [run_item(assessor, load_item(p, shown_path(p))) for p in files]
    counts = {s: sum(r.status == s for r in runs) for s in ("PASS", "FAIL", "ERROR")}
    if args.json:
        print(json.dumps({"kb_version": kb.version,
                          "kb_dir": str(args.kb or default_kb_dir()),
                          "summary": {"passed": counts["PASS"], "failed": counts["FAIL"],
                                      "errors": counts["ERROR"]},
                          "results": [r.to_json() for r in runs]}, indent=2))
    else:
        for r in runs:
            print("\n".join(format_run(r)))
        n_cases = sum(r.item.kind == "case" for r in runs)
        counted = f"{len(runs) - n_cases} scenarios"
        counted += f", {n_cases} plain cases" if n_cases else ""
        print(f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['ERROR']} errors "
              f"({counted}, knowledge base {kb.version})")
    return EXIT_FAILED if counts["FAIL"] or counts["ERROR"] else EXIT_OK
