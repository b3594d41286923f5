"""Every scenario file in kb/scenarios: expected conclusions appear, forbidden ones do not,
and every safety property holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from pumpdx.engine.assess import Assessor
from pumpdx.engine.safety import violations
from pumpdx.engine.scenarios import check, load_scenario, scenario_paths

from .conftest import SCENARIOS_DIR

PATHS = scenario_paths([SCENARIOS_DIR])


@pytest.mark.parametrize("path", PATHS, ids=[str(p.relative_to(SCENARIOS_DIR)) for p in PATHS])
def test_scenario(path: Path, assessor: Assessor) -> None:
    scenario = load_scenario(path)
    unknown = [c for c in scenario.spec.expect + scenario.spec.forbid
               if c not in assessor.kb.concepts]
    assert not unknown, f"unknown concept ids in {path.name}: {unknown}"
    assessment = assessor.assess(scenario.case)
    result = check(scenario.spec, assessment)
    assert result.status == "PASS", (
        f"missing {result.missing}, forbidden present {result.forbidden_present}; "
        + "; ".join(result.firings))
    assert violations(scenario.case, assessment, assessor.kb) == []


def test_there_are_scenarios() -> None:
    assert len(PATHS) >= 7
