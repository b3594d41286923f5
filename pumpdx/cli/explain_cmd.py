"""pumpdx explain CASE --why CONCEPT | --why-not CONCEPT: why a conclusion was (not) drawn.

--why lists the firings that concluded the concept, the facts each matched and the
firings that derived those facts. --why-not lists every rule that can conclude the
concept and, for each, the first condition that failed with the fact values it saw
(or "finding not entered"), following the derived facts that condition needed to
--depth levels. --why-not all does so for every concept of the algorithms the case
entered that was not concluded.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pumpdx.engine.assess import default_assessor
from pumpdx.engine.explain import (
    DEFAULT_DEPTH,
    explainer_for,
    format_why,
    format_why_not,
)
from pumpdx.kb.issues import KBLoadError
from pumpdx.kb.suggest import did_you_mean

from .common import EXIT_OK, CommandError, kb_error, read_case


def register(sub: Any) -> None:
    p = sub.add_parser("explain", help="why a conclusion was drawn (--why) or not (--why-not)",
                       description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("case", help="case file (.json, .yaml) or - for stdin")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--why", metavar="CONCEPT", help="why this concept was concluded")
    what.add_argument("--why-not", metavar="CONCEPT",
                      help="why this concept was not concluded ('all': every concept of "
                           "the entered algorithms that was not)")
    p.add_argument("--depth", type=int, default=DEFAULT_DEPTH, metavar="N",
                   help=f"how far to follow derived facts (1-10, default {DEFAULT_DEPTH})")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--kb", type=Path, metavar="DIR",
                   help="knowledge-base folder (default: the shipped one)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.depth <= 10:
        raise CommandError(f"--depth {args.depth}: allowed: 1 to 10")
    if args.kb is not None and not args.kb.is_dir():
        raise CommandError(f"{args.kb}: knowledge-base folder not found")
    case = read_case(args.case)
    try:
        assessor = default_assessor(args.kb)
    except KBLoadError as exc:
        raise kb_error(exc) from None
    kb = assessor.kb
    concept = args.why if args.why is not None else args.why_not
    if not (args.why_not == "all" or concept in kb.concepts):
        raise CommandError(f"unknown concept '{concept}'{did_you_mean(concept, kb.concepts)}; "
                           "allowed: the ids of kb concepts/ (pumpdx assess --json lists "
                           "those concluded)")
    assessment = assessor.assess(case)
    explainer = explainer_for(kb)
    if args.why is not None:
        w = explainer.why(assessment, concept, args.depth)
        print(w.model_dump_json(indent=2) if args.json else format_why(w), end="\n"
              if args.json else "")
        return EXIT_OK
    concepts = [concept] if concept != "all" else [
        c for cs in explainer.not_concluded(assessment).values() for c in cs]
    results = [explainer.why_not(assessment, c, args.depth) for c in concepts]
    if args.json:
        data = [r.model_dump(mode="json") for r in results]
        print(json.dumps(data[0] if concept != "all" else data, indent=2))
    else:
        print("\n".join(format_why_not(r) for r in results), end="")
    return EXIT_OK
