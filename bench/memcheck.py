"""Memory of one process assessing many cases on one engine (run in a fresh process).

    .venv/bin/python bench/memcheck.py CASES.jsonl 10000 [--warmup 500] [--fresh 0]

Prints one JSON object: resident memory after start-up, after the warm-up, at
checkpoints and at the end (MB), the growth after the warm-up, and the peak. Cases
are taken from CASES.jsonl in turn (cycling if there are fewer lines than asked);
each run gets its own case_id and a distinct onset time, so no two runs are the
same case. `--fresh N` instead builds a new engine for each of N cases, the
pattern that makes experta's memory grow.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
from pathlib import Path
from typing import Any

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    """Resident set size of this process now, in MB (from /proc/self/statm)."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * PAGE / 1e6


def peak_mb() -> float:
    """Peak resident set size of this process so far, in MB (ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def varied(case: dict[str, Any], i: int) -> dict[str, Any]:
    """The case with a run-specific id and onset time (distinct facts every run)."""
    presentation = {**case["presentation"], "onset_hours_after_refill": (i % 80_000) / 10}
    return {**case, "case_id": f"run-{i}", "presentation": presentation}


def measure(cases: list[dict[str, Any]], count: int, warmup: int, fresh: int
            ) -> dict[str, Any]:
    from pumpdx.engine.assess import Assessor
    from pumpdx.kb.facts import Case
    from pumpdx.kb.loader import load_kb

    kb = load_kb()
    result: dict[str, Any] = {"rss_after_start_mb": round(rss_mb(), 1)}
    if fresh:
        before = rss_mb()
        for i in range(fresh):
            Assessor(kb).assess(Case.model_validate(varied(cases[i % len(cases)], i)))
        result.update(fresh_engines=fresh, fresh_growth_mb=round(rss_mb() - before, 1),
                      peak_mb=round(peak_mb(), 1))
        return result
    assessor = Assessor(kb)
    for i in range(warmup):
        assessor.assess(Case.model_validate(varied(cases[i % len(cases)], i)))
    after_warmup = rss_mb()
    checkpoints = []
    step = max(count // 5, 1)
    for i in range(count):
        assessor.assess(Case.model_validate(varied(cases[i % len(cases)], warmup + i)))
        if (i + 1) % step == 0:
            checkpoints.append(round(rss_mb(), 1))
    result.update(cases=count, warmup=warmup, rss_after_warmup_mb=round(after_warmup, 1),
                  rss_checkpoints_mb=checkpoints, rss_end_mb=round(rss_mb(), 1),
                  growth_after_warmup_mb=round(rss_mb() - after_warmup, 1),
                  peak_mb=round(peak_mb(), 1))
    return result


def read_cases(path: Path) -> list[dict[str, Any]]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict) and isinstance(data.get("presentation"), dict):
            cases.append(data)
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("cases", type=Path)
    parser.add_argument("count", type=int)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--fresh", type=int, default=0)
    args = parser.parse_args()
    from pumpdx.engine.inputs import InputError, case_from_data

    usable = []
    for data in read_cases(args.cases):
        try:
            case_from_data(data, "case")
        except InputError:
            continue
        usable.append(data)
    print(json.dumps(measure(usable, args.count, args.warmup, args.fresh)))


if __name__ == "__main__":
    main()
