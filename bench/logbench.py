"""Decision-log figures: writing (batched and one by one) and replay, on SQLite and, with
--postgres URL, on PostgreSQL. Prints wall-clock and CPU time (the machine is shared).

    .venv/bin/python bench/logbench.py [--count 1000] [--postgres postgresql://...]

The cases are the same generated ones as bench/gencases.py; each log is a new SQLite file
in a temporary folder, or the PostgreSQL database given (its pumpdx_decisions table is
emptied first: give a scratch database).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def timed(work: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def run(url: str, assessments: list[Any], singles: int) -> None:
    from sqlalchemy import delete

    from pumpdx.decisionlog import DecisionLog, replay
    from pumpdx.decisionlog.schema import decisions
    from pumpdx.engine.assess import default_assessor

    with DecisionLog.open(url) as log:
        with log.engine.begin() as conn:
            conn.execute(delete(decisions))
        n = len(assessments) - singles
        _, wall, cpu = timed(lambda: log.record_many(assessments[:n]))
        print(f"  record_many, {n} decisions: {wall:.2f} s ({n / wall:.0f}/s), CPU {cpu:.2f} s")
        latencies = []
        for a in assessments[n:]:
            _, wall, _ = timed(lambda a=a: log.record(a))
            latencies.append(wall * 1000)
        q = statistics.quantiles(latencies, n=20)
        print(f"  record, one transaction each ({singles}): p50 {statistics.median(latencies):.1f}"
              f" ms, p95 {q[18]:.1f} ms")
        assessor = default_assessor()
        report, wall, cpu = timed(lambda: replay(log, assessor))
        count = report.decisions_run
        print(f"  replay, {count} decisions on the same KB: {wall:.2f} s ({count / wall:.0f}/s), "
              f"CPU {cpu:.2f} s, {len(report.changed)} changed")
        cases = [a for a in assessments]
        _, wall, _ = timed(lambda: [assessor.assess(_case(a)) for a in cases])
        print(f"  (assessing the same {len(cases)} cases alone: {wall:.2f} s)")


def _case(assessment: Any) -> Any:
    from pumpdx.kb.facts import Case

    return Case.model_validate(assessment.case)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--singles", type=int, default=100,
                        help="how many of them are written one transaction each")
    parser.add_argument("--postgres", metavar="URL", help="also a scratch PostgreSQL database")
    args = parser.parse_args()

    from gencases import generate  # bench/ is on the path when run as a script

    from pumpdx.engine.assess import default_assessor
    from pumpdx.kb.facts import Case

    assessor = default_assessor()
    cases = generate(args.count)
    assessments = [assessor.assess(Case.model_validate({**c, "case_id": f"bench-{i}"}))
                   for i, c in enumerate(cases)]
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite (WAL, synchronous=FULL):")
        run(str(Path(tmp) / "bench.sqlite3"), assessments, args.singles)
    if args.postgres:
        print("PostgreSQL:")
        run(args.postgres, assessments, args.singles)


if __name__ == "__main__":
    main()
