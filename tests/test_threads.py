"""Engines built and run in many threads at once give the sequential results.

Each thread builds its own Assessor (its own compiled engine) on the same knowledge
base, all starting together, then assesses every bundled case report; the
conclusions, questions and traces must equal those of one engine run sequentially.
It runs in a fresh interpreter: the shared state at risk (the fact classes of the
process) is empty only before the first engine is built, and the script empties it
before each round.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from .conftest import CASES_DIR

SCRIPT = textwrap.dedent("""
    import json, sys, threading
    from pathlib import Path
    from pumpdx.engine import factclasses
    from pumpdx.engine.assess import Assessor
    from pumpdx.engine.inputs import load_case
    from pumpdx.kb.loader import load_kb

    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    threads = int(sys.argv[2])
    kb = load_kb()
    cases = [load_case(str(p)) for p in sorted(Path(sys.argv[1]).glob("*.yaml"))]

    def outcome(assessor):
        out = []
        for case in cases:
            a = assessor.assess(case)
            out.append([a.decision_id, [c.id for c in a.conclusions],
                        [q.id for q in a.questions], a.trace.model_dump(mode="json")])
        return out

    results = []
    errors = []
    for _round in range(int(sys.argv[3])):
        # every round starts as a fresh process does: no fact class made yet
        factclasses._CLASSES.clear()
        barrier = threading.Barrier(threads)
        built = [None] * threads

        def work(i):
            try:
                barrier.wait()
                built[i] = outcome(Assessor(kb))
            except BaseException as exc:
                errors.append(repr(exc))

        workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        results += built
    sequential = outcome(Assessor(kb))
    shared = Assessor(kb)  # one engine used by many threads: serialised by its lock
    concurrent = [None] * threads
    def use_shared(i):
        concurrent[i] = outcome(shared)
    workers = [threading.Thread(target=use_shared, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print(json.dumps({"errors": errors, "sequential": sequential,
                      "threads": results, "shared": concurrent}))
""")


def test_engines_built_and_run_in_threads_match_the_sequential_run() -> None:
    threads, rounds = 6, 3
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(CASES_DIR), str(threads),
                           str(rounds)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["errors"] == []
    sequential = out["sequential"]
    assert len(sequential) >= 7 and all(conclusions for _, conclusions, _, _ in sequential)
    for i, result in enumerate(out["threads"] + out["shared"]):
        for case, (got, want) in enumerate(zip(result, sequential, strict=True)):
            assert got[1] == want[1], f"run {i}, case {case}: conclusions differ"
            assert got == want, f"run {i}, case {case}: questions or trace differ"
