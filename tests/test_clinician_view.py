"""The clinician view (pumpdx.viz.clinicianview): clinical order, merged restatements,
grouped questions, the next step; and that the JSON keeps every conclusion."""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pumpdx.engine.assess import Assessor
from pumpdx.engine.assessment import Assessment
from pumpdx.engine.inputs import load_case
from pumpdx.kb.facts import Case
from pumpdx.kb.issues import KBLoadError
from pumpdx.kb.loader import KnowledgeBase, load_kb
from pumpdx.viz.clinicianview import ClinicianView, ViewItem, clinician_view, priority_of

from .conftest import CASES_DIR, REPO
from .fixtures.minikb import mutated_shipped_kb

VIEW = "clinician_view.yaml"


def _all_items(view: ClinicianView) -> list[ViewItem]:
    return [*view.shown(), *view.detail, *view.questions, *view.later_questions]


def _item_with(view: ClinicianView, concept: str) -> ViewItem:
    return next(i for i in _all_items(view) if concept in i.ids)


def _check_complete(a: Assessment, view: ClinicianView) -> None:
    """Every conclusion and question of the JSON is in exactly one item of the view."""
    shown = [cid for item in _all_items(view) for cid in item.ids]
    wanted = [c.id for c in a.conclusions] + [q.id for q in a.questions]
    assert sorted(set(shown) & set(wanted)) == sorted(wanted)
    assert len([c for c in shown if c in wanted]) == len(wanted), "a conclusion shown twice"


OPIOID_OVERDOSE: dict[str, Any] = {
    "pump": {"model": "synchromed_ii", "reservoir_ml": 20},
    "drugs": [{"agent": "morphine", "concentration_mg_per_ml": 10}],
    "presentation": {"problems": ["overdose"], "signs": ["respiratory_depression"]},
}


def test_life_threatening_action_is_the_next_step_and_first(run: Any, kb: KnowledgeBase) -> None:
    a = run(OPIOID_OVERDOSE)
    view = clinician_view(a, kb)
    assert "naloxone" in a.next_step and a.next_step == view.next_step
    assert view.sections[0].title == "DO NOW"
    assert "titrated_naloxone" in view.sections[0].items[0].ids
    # supportive care: one item, however many rules restate it
    supportive = [i for i in view.shown() if "supportive" in i.text.lower()]
    assert len(supportive) == 1, [i.ids for i in supportive]


def test_baclofen_withdrawal_warning_is_among_the_urgent_items(run: Any, kb: KnowledgeBase
                                                             ) -> None:
    a = run({"pump": {"model": "synchromed_ii", "reservoir_ml": 20},
             "drugs": [{"agent": "baclofen"}],
             "presentation": {"problems": ["withdrawal"],
                              "signs": ["high_fever", "rebound_spasticity"]},
             "interrogation": {"motor_stall": "none", "programming_error": False}})
    view = clinician_view(a, kb)
    assert any("baclofen_withdrawal_warning" in i.ids for i in view.urgent())


def test_restoring_delivery_in_a_withdrawal_comes_before_diagnostics(run: Any,
                                                                    kb: KnowledgeBase) -> None:
    a = run({"pump": {"model": "synchromed_ii", "reservoir_ml": 20},
             "drugs": [{"agent": "morphine", "concentration_mg_per_ml": 10}],
             "presentation": {"problems": ["withdrawal"], "signs": ["diaphoresis"]},
             "interrogation": {"motor_stall": "none", "programming_error": False},
             "reservoir": {"measured_volume_ml": 0.5, "expected_volume_ml": 0.6}})
    view = clinician_view(a, kb)
    assert "refill_to_restore_therapy" in a.conclusion_ids()
    refill = _item_with(view, "refill_to_restore_therapy")
    assert refill in view.urgent()
    work_up = _item_with(view, "ow_targeted_evaluation")
    assert view.shown().index(refill) < view.shown().index(work_up)


def test_restatements_are_one_item_with_every_citation_and_the_json_keeps_both(
        run: Any, kb: KnowledgeBase) -> None:
    a = run({"pump": {"model": "synchromed_ii", "reservoir_ml": 20},
             "presentation": {"problems": ["alarm"]},
             "audible_alarm": {"pattern": "dual_tone_3_seconds"}})
    ids = a.conclusion_ids()
    assert {"interrogate_pump_immediately", "interrogation_needed"} <= ids
    view = clinician_view(a, kb)
    item = _item_with(view, "interrogation_needed")
    assert item.ids[0] == "interrogate_pump_immediately"
    question = next(q for q in a.questions if q.id == "interrogation_needed")
    assert set(question.citations) <= set(item.citations)
    assert not any("interrogation_needed" in q.ids for q in view.questions)
    _check_complete(a, view)


def test_initial_work_up_is_one_item(run: Any, kb: KnowledgeBase) -> None:
    a = run(OPIOID_OVERDOSE)
    parts = {"ow_targeted_evaluation", "correlate_onset_with_events", "laboratory_studies"}
    assert parts <= a.conclusion_ids()
    view = clinician_view(a, kb)
    item = _item_with(view, "laboratory_studies")
    assert parts <= set(item.ids) and item.text.startswith("Initial work-up")
    assert len(item.lines) >= 3


def test_mri_conditions_are_one_checklist_question(run: Any, kb: KnowledgeBase) -> None:
    a = run({"pump": {"model": "synchromed_ii", "reservoir_ml": 20},
             "drugs": [{"agent": "morphine", "concentration_mg_per_ml": 10}],
             "presentation": {"problems": ["mri_planned"]},
             "exposures": [{"kind": "mri", "status": "planned"}]})
    asked = [q.id for q in a.questions if q.id.startswith("mri_")]
    assert len(asked) >= 5
    view = clinician_view(a, kb)
    checklists = {_item_with(view, q).id for q in asked}
    assert checklists == {"mri_conditions_checklist"}
    assert len(_item_with(view, asked[0]).lines) == len(asked)


def test_cap_contrast_prerequisites_are_one_checklist_question(run: Any,
                                                               kb: KnowledgeBase) -> None:
    a = run({"pump": {"model": "synchromed_ii", "reservoir_ml": 20},
             "drugs": [{"agent": "morphine", "concentration_mg_per_ml": 10}],
             "presentation": {"problems": ["loss_of_therapy"]},
             "cap_aspiration": {"result": "failed"}})
    asked = {"dead_space_needed", "bolus_tolerance_needed", "monitoring_availability_needed"}
    assert asked <= a.conclusion_ids()
    view = clinician_view(a, kb)
    assert {_item_with(view, q).id for q in asked} == {"cap_contrast_prerequisites"}


def test_questions_follow_the_algorithm(run: Any, kb: KnowledgeBase) -> None:
    """Fig. 8 and Fig. 11 interrogate first; the reservoir is aspirated afterwards."""
    a = run({"pump": {"model": "synchromed_ii", "reservoir_ml": 20},
             "drugs": [{"agent": "morphine", "concentration_mg_per_ml": 10}],
             "presentation": {"problems": ["withdrawal"], "signs": ["diaphoresis"]}})
    ids = a.conclusion_ids()
    assert {"interrogation_needed", "reservoir_aspiration_needed"} <= ids
    view = clinician_view(a, kb)
    now = [i.id for i in view.questions]
    assert "interrogation_needed" in now and "reservoir_aspiration_needed" not in now
    assert "reservoir_aspiration_needed" in [i.id for i in view.later_questions]
    _check_complete(a, view)


def test_steps_already_done_are_not_recommended_again(run: Any) -> None:
    alarm: dict[str, Any] = {"pump": {"model": "synchromed_ii", "reservoir_ml": 20},
                             "presentation": {"problems": ["alarm"]},
                             "audible_alarm": {"pattern": "dual_tone_3_seconds"}}
    assert "interrogate_pump_immediately" in run(alarm).conclusion_ids()
    done = run({**alarm, "interrogation": {"motor_stall": "none"}})
    assert "interrogate_pump_immediately" not in done.conclusion_ids()
    bolus: dict[str, Any] = {
        "pump": {"model": "synchromed_ii", "reservoir_ml": 20},
        "drugs": [{"agent": "morphine", "concentration_mg_per_ml": 10}],
        "presentation": {"problems": ["loss_of_therapy"], "non_device_cause_identified": False},
        "interrogation": {"motor_stall": "none", "programming_error": False},
        "reservoir": {"expected_volume_ml": 8, "measured_volume_ml": 8.4},
        "diagnostic_bolus": {"noticeable_response_expected": True}}
    assert "diagnostic_bolus_considered" in run(bolus).conclusion_ids()
    for response in ("appropriate", "none"):
        after = run({**bolus, "diagnostic_bolus": {"noticeable_response_expected": True,
                                                   "response": response}})
        assert "diagnostic_bolus_considered" not in after.conclusion_ids(), response


def test_every_bundled_case_has_a_next_step_and_a_complete_view(assessor: Assessor) -> None:
    for path in sorted(CASES_DIR.glob("*.yaml")):
        a = assessor.assess(load_case(str(path)))
        view = clinician_view(a, assessor.kb)
        assert a.next_step and "\n" not in a.next_step, path.name
        assert a.next_step == view.next_step
        _check_complete(a, view)


def test_kinds_mean_what_they_say(kb: KnowledgeBase) -> None:
    """Descriptions of an alarm or a device state are findings, not urgent actions."""
    for cid in ("prometra_critical_error_alarm", "synchromed_critical_alarm"):
        assert kb.concepts[cid].kind == "finding"
    assert kb.concepts["interrogate_pump_immediately"].kind == "recommendation"


def test_a_concept_without_a_priority_is_placed_by_its_kind(tmp_path: Path) -> None:
    root = mutated_shipped_kb(tmp_path, {"concepts/triage.yaml": [(
        "concepts:\n",
        "concepts:\n  - id: new_parallel_warning\n    kind: warning\n"
        "    text: A concept another engineer adds.\n    cite: [{section: \"7.1\"}]\n"
        "  - id: new_parallel_naloxone\n    kind: recommendation\n"
        "    text: A tagged concept.\n    cite: [{section: \"7.1\"}]\n    tags: [naloxone]\n")]})
    kb = load_kb(root)
    assert priority_of("new_parallel_warning", kb) == kb.view.kind_priority["warning"]
    assert priority_of("new_parallel_naloxone", kb) == kb.view.tag_priority["naloxone"]


def test_the_view_file_names_only_known_concepts(tmp_path: Path) -> None:
    root = mutated_shipped_kb(tmp_path, {VIEW: [(
        "  refill_to_restore_therapy: [restore_therapy_if_feasible]",
        "  refill_to_restore_therapy: [restore_therapy_if_feasable]")]})
    with pytest.raises(KBLoadError) as err:
        load_kb(root)
    assert "clinician_view.yaml" in str(err.value)
    assert "unknown concept 'restore_therapy_if_feasable'" in str(err.value)


def test_generated_cases_stay_short(assessor: Assessor, tmp_path: Path) -> None:
    """The issue's aims on generated cases: median items shown <= 8, p90 urgent <= 3
    (bench/clinician_view.py measures 10,000; this guards 1,000). The cases come from
    bench/gencases.py in a fresh process: the same cases every run, whatever tests ran
    before in this one (hypothesis draws in-process depend on earlier tests)."""
    cases = tmp_path / "cases.jsonl"
    subprocess.run([sys.executable, str(REPO / "bench" / "gencases.py"), "1000", str(cases)],
                   check=True, capture_output=True, timeout=300)
    shown, urgent = [], []
    for line in cases.read_text().splitlines():
        a = assessor.assess(Case.model_validate_json(line))
        view = clinician_view(a, assessor.kb)
        _check_complete(a, view)
        shown.append(len(view.shown()))
        urgent.append(len(view.urgent()))
    assert len(urgent) == 1000
    assert statistics.median(shown) <= 8
    assert sorted(urgent)[int(0.9 * len(urgent))] <= 3
