"""pumpdx kb facts: the fact types rules can match, with fields and allowed values."""

from __future__ import annotations

import argparse
from typing import Any

from pumpdx.kb.issues import KBLoadError
from pumpdx.kb.loader import load_kb

from .common import EXIT_OK, CommandError, add_kb_option, kb_error, kb_option


def register(kb_sub: Any) -> None:
    p = kb_sub.add_parser("facts", help="list the fact types and fields rules can match")
    add_kb_option(p, folder_positional=True)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    folder = kb_option(args)
    if folder is not None and not folder.is_dir():
        raise CommandError(f"{folder}: knowledge-base folder not found")
    try:
        kb = load_kb(folder)
    except KBLoadError as exc:
        raise kb_error(exc) from None
    for ft in kb.fact_types.values():
        where = f" (case: {ft.case_path})" if ft.case_path else ""
        print(f"{ft.name} [{ft.origin}]{where}: {ft.doc}")
        for name, spec in ft.fields.items():
            print(f"    {name}: {spec.describe()}")
    return EXIT_OK
