"""Every scenario file in kb/scenarios, run the way `pumpdx kb test` runs it: expected
conclusions appear, forbidden ones do not, every safety property holds; and every figure or
section branch a rule encodes has a scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

from pumpdx.engine.assess import Assessor
from pumpdx.engine.casesuite import CaseRun, load_item, run_item
from pumpdx.engine.coverage import compute_coverage
from pumpdx.engine.scenarios import scenario_paths
from pumpdx.kb.loader import KnowledgeBase

from .conftest import SCENARIOS_DIR

PATHS = scenario_paths([SCENARIOS_DIR])


@pytest.mark.parametrize("path", PATHS, ids=[str(p.relative_to(SCENARIOS_DIR)) for p in PATHS])
def test_scenario(path: Path, assessor: Assessor) -> None:
    run = run_item(assessor, load_item(path, path.name))
    details = run.to_json()
    assert run.item.kind == "scenario", details
    assert run.status == "PASS", details


def test_there_are_scenarios() -> None:
    assert len(PATHS) >= 7


def test_every_branch_has_a_rule_and_a_scenario(kb: KnowledgeBase) -> None:
    """Branch labels only: a scenario labelled with every branch a rule encodes, and no
    scenario label that no rule carries (firing is checked by test_scenario)."""
    labelled = [CaseRun(load_item(p, p.name)) for p in PATHS]
    coverage = compute_coverage(kb, labelled, [])
    without_rule = sorted(b.branch for b in coverage.branches if not b.rules)
    without_scenario = sorted(b.branch for b in coverage.branches if not b.scenarios)
    assert without_rule == [], "scenario branch labels that no rule carries"
    assert without_scenario == [], "rule branches that no scenario exercises"
