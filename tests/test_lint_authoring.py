"""Author-time checks of `pumpdx kb lint`: threshold gaps and overlaps on one field, and
contradicting conclusions with a witness case (hypothetical edits of a copy of the KB)."""

from __future__ import annotations

import json
from pathlib import Path

from pumpdx.engine.assess import Assessor
from pumpdx.engine.casesuite import collect_files, load_item
from pumpdx.engine.contradictions import check_contradictions, merge
from pumpdx.kb.facts import Case
from pumpdx.kb.lint import lint_kb
from pumpdx.kb.loader import load_kb

from .conftest import KB_DIR
from .fixtures.minikb import mutated_shipped_kb

EXPOSURES = "rules/external_exposures.yaml"
REFILL_LE = "post_mri_aspirate_ml: {le: {param: prometra_post_mri_open_valve_aspirate_ml}}"
OPEN_GT = "post_mri_aspirate_ml: {gt: {param: prometra_post_mri_open_valve_aspirate_ml}}"


def threshold_issues(tmp: Path, old: str, new: str) -> list[str]:
    kb = load_kb(mutated_shipped_kb(tmp, {EXPOSURES: [(old, new)]}))
    return [i.message for i in lint_kb(kb) if i.check == "threshold"]


def test_shipped_kb_has_no_threshold_gap_or_overlap(kb: object) -> None:
    assert [i for i in lint_kb(kb) if i.check == "threshold"] == []  # type: ignore[arg-type]


def test_exactly_1_ml_falling_through_both_prometra_branches_is_a_gap(tmp_path: Path) -> None:
    messages = threshold_issues(tmp_path, REFILL_LE, REFILL_LE.replace("{le:", "{lt:"))
    assert len(messages) == 1
    assert messages[0].startswith(
        "threshold gap at {param: prometra_post_mri_open_valve_aspirate_ml} = 1: "
        "exposure.post_mri_aspirate_ml")
    assert "exp_prometra_valves_open" in messages[0]
    assert "exp_prometra_post_mri_refill" in messages[0]


def test_exactly_1_ml_taking_both_prometra_branches_is_an_overlap(tmp_path: Path) -> None:
    messages = threshold_issues(tmp_path, OPEN_GT, OPEN_GT.replace("{gt:", "{ge:"))
    assert len(messages) == 1 and messages[0].startswith("threshold overlap at ")
    assert "takes both branches" in messages[0]


def test_contradiction_found_by_merging_two_scenarios(tmp_path: Path) -> None:
    """Declare naloxone to contradict the trial pain group (a hypothetical edit): no
    scenario has both, but an overdose scenario merged with a trial scenario does."""
    root = mutated_shipped_kb(tmp_path, {"concepts/overdose_withdrawal.yaml": [(
        "                  restore_therapy_if_feasible]\n    tags: [naloxone]",
        "                  restore_therapy_if_feasible, trial_pain_group]\n"
        "    tags: [naloxone]")]})
    assessor = Assessor(load_kb(root))
    items = [load_item(p, p.name) for p in collect_files(
        [KB_DIR / "scenarios" / "overdose_withdrawal", KB_DIR / "scenarios" / "trial_planning"])]
    issues = check_contradictions(assessor, items)
    (issue,) = [i for i in issues if "trial_pain_group" in i.message]
    assert issue.check == "contradiction" and issue.rule_id == "titrated_naloxone"
    assert "merged with" in issue.message and "ow_overdose_opioid_naloxone" in issue.message
    witness = json.loads(issue.message.split("): ", 1)[1])
    ids = assessor.assess(Case.model_validate(witness)).conclusion_ids()
    assert {"titrated_naloxone", "trial_pain_group"} <= ids


def test_shipped_kb_has_no_contradiction_witness(assessor: Assessor) -> None:
    items = [load_item(p, p.name) for p in collect_files([KB_DIR])]
    assert check_contradictions(assessor, items) == []


def test_merge_keeps_the_first_value_and_joins_lists() -> None:
    a = {"pump": {"model": "prometra"}, "drugs": [{"agent": "morphine"}]}
    b = {"pump": {"model": "synchromed_ii", "reservoir_ml": 20},
         "drugs": [{"agent": "morphine"}, {"agent": "baclofen"}]}
    assert merge(a, b) == {"pump": {"model": "prometra", "reservoir_ml": 20},
                           "drugs": [{"agent": "morphine"}, {"agent": "baclofen"}]}
