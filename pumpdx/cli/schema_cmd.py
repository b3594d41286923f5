"""pumpdx schema: the JSON Schema of a case; --fields: the fields, for people."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pumpdx.kb.facts import Case

from .common import EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser("schema", help="print the JSON Schema of a case (--fields: a readable "
                                      "list of the fields)")
    p.add_argument("--fields", action="store_true",
                   help="list every field: name, unit, allowed values, meaning and the "
                        "sections of the review whose rules use it")
    p.add_argument("--kb", type=Path, help="knowledge-base folder (default: the shipped one)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not args.fields:
        print(json.dumps(Case.model_json_schema(), indent=2, sort_keys=True))
        return EXIT_OK
    from pumpdx.engine.assess import default_assessor
    from pumpdx.kb.casefields import described_fields, format_fields
    from pumpdx.kb.issues import KBLoadError

    from .common import kb_error

    try:
        kb = default_assessor(args.kb).kb
    except KBLoadError as exc:
        raise kb_error(exc) from None
    print(format_fields(described_fields(kb)), end="")
    return EXIT_OK
