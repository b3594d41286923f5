"""The same case and knowledge base give the same conclusions and the same trace, in any
process, under any PYTHONHASHSEED (experta's own strategy does not)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

from pumpdx.engine.assess import Assessor
from pumpdx.engine.inputs import load_case

from .conftest import CASES_DIR

PROGRAM = """
import hashlib, sys
from pumpdx.engine.assess import default_assessor
from pumpdx.engine.inputs import load_case
a = default_assessor()
for path in sys.argv[1:]:
    out = a.assess(load_case(path)).model_dump_json()
    print(hashlib.sha256(out.encode()).hexdigest())
"""

CASES = sorted(CASES_DIR.glob("*.yaml"))


def _digests(seed: str) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    out = subprocess.run([sys.executable, "-c", PROGRAM, *map(str, CASES)], env=env,
                         capture_output=True, text=True, check=True, timeout=120)
    return out.stdout.split()


def test_identical_assessments_under_ten_hash_seeds() -> None:
    seeds = ["0", "1", "2", "3", "42", "1234", "99999", "2718281", "31415926", "4294967295"]
    results = {seed: _digests(seed) for seed in seeds}
    reference = results["0"]
    assert len(reference) == len(CASES)
    for seed, digests in results.items():
        assert digests == reference, f"PYTHONHASHSEED={seed} changed an assessment"


def test_same_assessment_twice_in_one_process(assessor: Assessor) -> None:
    for path in CASES:
        case = load_case(str(path))
        first = assessor.assess(case).model_dump_json()
        second = assessor.assess(case).model_dump_json()
        assert hashlib.sha256(first.encode()).digest() == hashlib.sha256(second.encode()).digest()


def test_an_earlier_case_does_not_leak_into_the_next(assessor: Assessor) -> None:
    """reset() per case: a case assessed after another equals the case assessed alone."""
    cases = [load_case(str(p)) for p in CASES]
    alone = [Assessor(assessor.kb).assess(c).model_dump_json() for c in cases[:2]]
    for c in reversed(cases):
        assessor.assess(c)
    after = [assessor.assess(c).model_dump_json() for c in cases[:2]]
    assert after == alone
