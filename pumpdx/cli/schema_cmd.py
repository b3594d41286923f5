"""pumpdx schema: the JSON Schema of a case."""

from __future__ import annotations

import argparse
import json
from typing import Any

from pumpdx.kb.facts import Case

from .common import EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser("schema", help="print the JSON Schema of a case")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    print(json.dumps(Case.model_json_schema(), indent=2, sort_keys=True))
    return EXIT_OK
