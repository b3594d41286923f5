"""pumpdx kb diff: what an edit of the rulebook changes, rule by rule and case by case.

Compares the knowledge base of a git revision (--base REF; default: the merge base of
HEAD with main) with the one in --kb DIR (default: the shipped one, as it is in the
working copy), or two folders given as OLD_KB NEW_KB. Lists the algorithms, rules,
concepts and parameters added, removed or changed, the condition-level differences of
changed rules, then runs the case and scenario files (default: NEW_KB's cases/ and
scenarios/) and every line of each JSONL registry given with --cases on both, and
summarises by conclusion ("X: lost in 37 cases"). Exit code 0; 1 when a file could not
be run, or with --fail-on-change when any case's conclusions changed; 2 bad arguments.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from pumpdx.engine.assess import Assessor
from pumpdx.engine.casesuite import collect_files, load_item, shown_path
from pumpdx.engine.gitkb import GitError, kb_at_revision, merge_base, resolve
from pumpdx.engine.kbdiff import diff_kbs, render_text
from pumpdx.engine.registrydiff import RegistryDiff, diff_registry
from pumpdx.kb.loader import default_kb_dir

from .common import EXIT_FAILED, EXIT_OK, CommandError
from .kb_test_cmd import load_kb_arg


def register(kb_sub: Any) -> None:
    p = kb_sub.add_parser("diff", help="what changes between two rulebooks (or a git "
                          "revision and the working copy), rule by rule and case by case",
                          description=__doc__,
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folders", type=Path, nargs="*", metavar="OLD_KB NEW_KB",
                   help="two knowledge-base folders (instead of --base)")
    p.add_argument("--base", metavar="REF",
                   help="git revision of the rulebook before (default: merge base with main)")
    p.add_argument("--kb", type=Path, metavar="DIR",
                   help="knowledge-base folder after (default: the shipped one)")
    p.add_argument("--cases", type=Path, nargs="+", action="extend", metavar="PATH",
                   help="case and scenario files or folders, and JSONL registries "
                        "(*.jsonl, one JSON case per line)")
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="worker processes for the registries (default 1)")
    p.add_argument("--fail-on-change", action="store_true",
                   help="exit code 1 when the conclusions of any case change (for CI)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run)


def _registry(path: Path) -> bool:
    return path.suffix.lower() == ".jsonl"


def run(args: argparse.Namespace) -> int:
    if len(args.folders) not in (0, 2):
        raise CommandError("give two folders OLD_KB NEW_KB, or --base REF (and --kb DIR)")
    if args.folders and (args.base or args.kb):
        raise CommandError("OLD_KB NEW_KB cannot be combined with --base or --kb")
    if not 1 <= args.jobs <= 64:
        raise CommandError(f"--jobs {args.jobs}: allowed: 1 to 64")
    for path in args.cases or []:
        if not path.exists():
            raise CommandError(f"{path}: no such file or folder")
        if _registry(path) and not path.is_file():
            raise CommandError(f"{path}: a registry is a JSONL file")
    with tempfile.TemporaryDirectory(prefix="pumpdx-kbdiff-") as tmp:
        if args.folders:
            old_dir, new_dir = args.folders
            old_name, new_name = str(old_dir), str(new_dir)
        else:
            new_dir = args.kb if args.kb is not None else default_kb_dir()
            if not new_dir.is_dir():
                raise CommandError(f"{new_dir}: knowledge-base folder not found")
            try:
                ref = args.base or merge_base(new_dir)
                commit = resolve(ref, new_dir)
                old_dir = kb_at_revision(commit, new_dir, Path(tmp))
            except GitError as exc:
                raise CommandError(f"--base: {exc}") from None
            old_name = f"{args.base or 'merge base with main'} ({commit[:12]})"
            new_name = str(args.kb or "working copy")
        for kb_dir in (old_dir, new_dir):
            if not kb_dir.is_dir():
                raise CommandError(f"{kb_dir}: knowledge-base folder not found")
        old_kb, new_kb = load_kb_arg(old_dir), load_kb_arg(new_dir)
        paths = [p for p in args.cases or [] if not _registry(p)]
        registries = [p for p in args.cases or [] if _registry(p)]
        roots = paths or [p for p in (new_kb.root / "cases", new_kb.root / "scenarios")
                          if p.exists()]
        files = collect_files(roots)
        if not files and not registries:
            raise CommandError("no case or scenario files in " + ", ".join(map(str, roots)))
        items = [load_item(p, shown_path(p)) for p in files]
        diff = diff_kbs(Assessor(old_kb), Assessor(new_kb), items)
        for reg in registries:
            if old_kb.version == new_kb.version:  # same rule files: no line can change
                diff.registries.append(RegistryDiff(path=shown_path(reg), identical=True))
                continue
            diff.registries.append(diff_registry(reg, old_kb.root, new_kb.root, args.jobs,
                                                 shown_path(reg)))
    if args.json:
        print(diff.model_dump_json(indent=2))
    else:
        print(render_text(diff, old_name, new_name), end="")
    if any(c.error for c in diff.cases):
        return EXIT_FAILED
    return EXIT_FAILED if args.fail_on_change and diff.any_change() else EXIT_OK
