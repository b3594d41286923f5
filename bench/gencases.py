"""Write N generated cases as JSONL (one JSON case per line), the same ones every time.

    .venv/bin/python bench/gencases.py 10000 /tmp/cases.jsonl
    .venv/bin/pumpdx batch /tmp/cases.jsonl --out /tmp/results.jsonl --jobs 2

The cases come from the property tests' strategies (tests/strategies.py): valid
cases across the whole vocabulary, half of them variants of the bundled and
scenario cases. `--bad K` replaces every K-th line with a broken one (malformed
JSON, a wrong unit, an unknown drug ...) to exercise the error records.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

BAD_LINES = (
    '{"pump": {"model": "synchromed_ii"}, "presentation": {"problems": ["overdose"]},',
    '{"pump": {"model": "synchromed_ii"}, "presentation": {"problems": ["overdose"]}, '
    '"reservoir": {"measured_volume_cc": 5}}',
    '{"pump": {"model": "synchromed_ii"}, "presentation": {"problems": ["overdose"]}, '
    '"drugs": [{"agent": "oxycodone"}]}',
    '{"pump": {"model": "synchromed_ii"}, "presentation": {"problems": ["overdose"]}, '
    '"reservoir": {"measured_volume_ml": "5 mL"}}',
    '{"pump": {"model": "synchromed_ii"}, "presentation": {"problems": ["overdose"]}, '
    '"reservoir": {"measured_volume_ml": -3}}',
    "[1, 2, 3]",
    "",
)


def generate(count: int, seed: int = 20240611) -> list[dict[str, Any]]:
    """`count` valid case dicts from the property-test strategies, deterministic."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    from tests.strategies import any_case_dicts

    found: list[dict[str, Any]] = []
    attempt = 0
    while len(found) < count:
        need = count - len(found)

        @hypothesis_seed(seed + attempt)
        @settings(max_examples=need, database=None, phases=[Phase.generate], deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(any_case_dicts())
        def gather(example: dict[str, Any]) -> None:
            if len(found) < count:
                found.append(example)

        gather()
        attempt += 1
    return found


def write_jsonl(cases: list[dict[str, Any]], path: Path, bad_every: int = 0) -> int:
    """Write the cases (and every bad_every-th line broken); returns the bad lines."""
    bad = 0
    with path.open("w", encoding="utf-8") as handle:
        for i, case in enumerate(cases, 1):
            if bad_every and i % bad_every == 0:
                handle.write(BAD_LINES[bad % len(BAD_LINES)] + "\n")
                bad += 1
            else:
                handle.write(json.dumps(case) + "\n")
    return bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("count", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--bad", type=int, default=0, metavar="K",
                        help="make every K-th line a broken case")
    args = parser.parse_args()
    bad = write_jsonl(generate(args.count, args.seed), args.out, args.bad)
    print(f"wrote {args.count} lines ({bad} broken) to {args.out}")


if __name__ == "__main__":
    main()
