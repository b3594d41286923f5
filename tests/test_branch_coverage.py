"""`pumpdx kb coverage --branches`: every `any:` alternative of the shipped rules is
exercised by a scenario; an alternative no scenario takes is named; `not:` and field
tests are counted by outcome."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pumpdx.cli import main
from pumpdx.engine.assess import Assessor
from pumpdx.engine.branchcov import BranchCoverage, compute_branch_coverage, render_branches
from pumpdx.engine.casesuite import collect_files, run_files
from pumpdx.kb.loader import load_kb

from .conftest import KB_DIR
from .fixtures.minikb import mutated_shipped_kb


@pytest.fixture(scope="module")
def shipped(assessor: Assessor) -> BranchCoverage:
    runs = run_files(assessor, collect_files([KB_DIR / "scenarios"]))
    return compute_branch_coverage(assessor.kb, [r for r in runs if r.item.kind == "scenario"])


def test_every_any_alternative_of_the_shipped_rules_is_exercised(shipped: BranchCoverage
                                                                 ) -> None:
    alternatives = shipped.of_kind("alternative")
    assert len(alternatives) >= 70
    missing = [f"{b.rule} {b.path}" for b in alternatives if not b.covered()]
    assert missing == []
    text = render_branches(shipped)
    n = len(alternatives)
    assert f"any: alternatives exercised: {n} of {n} (100.0 %)" in text


def test_not_and_field_outcomes_are_counted(shipped: BranchCoverage) -> None:
    nots = shipped.of_kind("not")
    assert nots and all(set(b.outcomes) == {"held", "blocked"} for b in nots)
    # the refill rules' `not` on a do-not-refill conclusion is seen blocking them
    blocked = {(b.rule, b.path) for b in nots if b.outcomes["blocked"]}
    assert any(rule == "ow_withdrawal_refill" for rule, _ in blocked)
    fields = shipped.of_kind("field")
    assert all(set(b.outcomes) == {"passed", "failed"} for b in fields)
    figures = shipped.figures()
    assert figures["branch outcomes (all of the above)"][1] == \
        2 * (len(nots) + len(fields)) + len(shipped.of_kind("alternative"))


def test_an_alternative_no_scenario_takes_is_named(tmp_path: Path) -> None:
    """A third alternative added to the raised-CK rule (a hypothetical edit for the test)
    is reported, while the opioid alternative, taken by a scenario, is not."""
    root = mutated_shipped_kb(tmp_path, {"rules/laboratory.yaml": [(
        "            where: {agent: ziconotide}\n    then:\n      - conclude: lab_ck_rise_drug",
        "            where: {agent: ziconotide}\n          - fact: drug\n"
        "            where: {agent: baclofen}\n    then:\n      - conclude: lab_ck_rise_drug")]})
    kb = load_kb(root)
    runs = run_files(Assessor(kb), collect_files([KB_DIR / "scenarios" / "laboratory"]))
    cov = compute_branch_coverage(kb, [r for r in runs if r.item.kind == "scenario"])
    alts = {(b.rule, b.path): b for b in cov.of_kind("alternative")}
    assert not alts[("lab_ck_drug_myopathy", "when[1].any[2]")].covered()
    assert alts[("lab_ck_drug_myopathy", "when[1].any[0]")].outcomes["exercised"] == \
        ["labs_ck_opioid"]
    assert "lab_ck_drug_myopathy when[1].any[2]" in render_branches(cov)


def test_cli_branches_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["kb", "coverage", "--branches", "--json",
                 str(KB_DIR / "scenarios" / "laboratory")])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert {b["kind"] for b in data["branches"]} == {"alternative", "not", "field"}
