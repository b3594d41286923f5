"""Loss of therapy (review 7.10, Fig. 8): the diagnostic bolus, the interrogation branches and
the hand-over to catheter evaluation, over families of cases."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from pumpdx.engine.assess import Assessor
from pumpdx.engine.assessment import Assessment
from pumpdx.engine.safety import violations
from pumpdx.kb.facts import Case
from pumpdx.kb.loader import KnowledgeBase

from .test_kb_overdose_withdrawal import Mutation, mutated_assessor, scenario_problems

SM20 = {"model": "synchromed_ii", "reservoir_ml": 20}
CLEAN = {"motor_stall": "none", "programming_error": False}
# measured volume for an expected volume of 10 mL in a 20 mL pump (threshold 1 mL)
MEASURED = {"lower": 8.0, "none": 10.5, "higher": 12.0}


def lot_case(direction: str | None = None, noticeable: bool | None = None,
             response: str | None = None, problems: tuple[str, ...] = ("loss_of_therapy",),
             interrogation: dict[str, Any] | None = None, drugs: tuple[str, ...] = ("morphine",),
             **presentation: Any) -> Case:
    data: dict[str, Any] = {
        "pump": SM20,
        "drugs": [{"agent": d} for d in drugs],
        "presentation": {"problems": list(problems), "signs": ["increased_pain"], **presentation},
        "interrogation": interrogation if interrogation is not None else {
            **CLEAN, "calculated_reservoir_ml": 10.0},
    }
    if direction is not None:
        data["reservoir"] = {"measured_volume_ml": MEASURED[direction]}
    bolus = {k: v for k, v in (("noticeable_response_expected", noticeable),
                               ("response", response)) if v is not None}
    if bolus:
        data["diagnostic_bolus"] = bolus
    return Case.model_validate(data)


def ids(assessor: Assessor, c: Case) -> set[str]:
    return assessor.assess(c).conclusion_ids()


def bolus(a: Assessment, kb: KnowledgeBase) -> set[str]:
    return {c.id for c in a.conclusions if "diagnostic_bolus" in kb.concepts[c.id].tags}


@pytest.mark.parametrize(("direction", "noticeable"), list(itertools.product(
    ["lower", "none", "higher", None], [None, False, True])))
def test_diagnostic_bolus_only_with_higher_or_no_discrepancy_and_an_expected_response(
        assessor: Assessor, kb: KnowledgeBase, direction: str | None,
        noticeable: bool | None) -> None:
    c = lot_case(direction, noticeable, non_device_cause_identified=False)
    a = assessor.assess(c)
    should = direction in ("none", "higher") and noticeable is True
    assert bool(bolus(a, kb)) == should
    asked = "bolus_response_expectation_needed" in a.conclusion_ids()
    assert asked == (direction in ("none", "higher") and noticeable is None)
    assert ("diagnostic_bolus_not_informative" in a.conclusion_ids()) == (noticeable is False)
    assert violations(c, a, kb) == []


@pytest.mark.parametrize("direction", ["none", "higher"])
@pytest.mark.parametrize("extra_problem", ["overdose", "withdrawal"])
def test_no_diagnostic_bolus_when_overdose_is_suspected(
        assessor: Assessor, kb: KnowledgeBase, direction: str, extra_problem: str) -> None:
    c = lot_case(direction, True, problems=("loss_of_therapy", extra_problem),
                 non_device_cause_identified=False)
    a = assessor.assess(c)
    assert bool(bolus(a, kb)) == (extra_problem != "overdose")
    assert a.conflicts == []
    assert violations(c, a, kb) == []


def test_non_device_cause_stops_the_device_work_up(assessor: Assessor) -> None:
    for direction in ("lower", "none", "higher"):
        got = ids(assessor, lot_case(direction, True, non_device_cause_identified=True))
        assert "treat_non_device_cause_and_reassess" in got
        assert not {"diagnostic_bolus_considered", "consider_longitudinal_monitoring",
                    "escalate_supportive_care", "non_device_cause_question"} & got, direction


@pytest.mark.parametrize(("response", "noticeable", "expected", "forbidden"), [
    ("appropriate", True, {"dose_adjustment_or_delivery_mode_change"},
     {"suspected_catheter_malfunction", "fluoroscopy_guided_cap_aspiration"}),
    ("none", True, {"suspected_catheter_malfunction", "fluoroscopy_guided_cap_aspiration"},
     {"dose_adjustment_or_delivery_mode_change"}),
    ("appropriate", None, {"dose_adjustment_or_delivery_mode_change"}, {"bolus_response_needed"}),
    ("none", False, {"diagnostic_bolus_not_informative"},
     {"suspected_catheter_malfunction", "fluoroscopy_guided_cap_aspiration"}),
])
def test_bolus_response(assessor: Assessor, response: str, noticeable: bool | None,
                        expected: set[str], forbidden: set[str]) -> None:
    got = ids(assessor, lot_case("higher", noticeable, response, non_device_cause_identified=False))
    assert expected <= got
    assert not forbidden & got


def test_no_response_hands_over_to_catheter_evaluation(assessor: Assessor) -> None:
    a = assessor.assess(lot_case("none", True, "none", non_device_cause_identified=False))
    handovers = [f.content["algorithm"] for f in a.trace.facts if f.type == "handover"]
    assert handovers == ["loss_of_therapy", "catheter_evaluation"]
    firing = next(f for f in a.trace.firings if f.rule == "lot_bolus_no_response")
    assert firing.algorithm == "loss_of_therapy"


@pytest.mark.parametrize("stall", ["none", "temporary", "permanent"])
@pytest.mark.parametrize("trigger", ["programming_error", "alarm", "nothing"])
def test_interrogation_branches(assessor: Assessor, kb: KnowledgeBase, stall: str, trigger: str
                                ) -> None:
    interrogation: dict[str, Any] = {"motor_stall": stall, "calculated_reservoir_ml": 1.0,
                                     "programming_error": trigger == "programming_error"}
    if trigger == "alarm":
        interrogation["alarms_logged"] = ["non_critical"]
    c = lot_case(interrogation=interrogation, non_device_cause_identified=False)
    a = assessor.assess(c)
    got = a.conclusion_ids()
    assert ("assess_for_motor_stall" in got) == (trigger != "nothing")
    assert ("reprogram_or_address_alarms" in got) == (trigger != "nothing" and stall == "none")
    assert ("surgical_pump_replacement" in got) == (stall == "permanent")
    assert ("temporary_motor_stall_not_in_fig8" in got) == (stall == "temporary")
    # the reservoir (1 mL) is low: refilled unless the pump is to be replaced
    assert ("refill_to_restore_therapy" in got) == (stall != "permanent")
    assert a.conflicts == []
    assert violations(c, a, kb) == []


def test_mixed_pump_follows_the_same_algorithm(assessor: Assessor) -> None:
    """Fig. 8 does not depend on the agents, except for the expected bolus response."""
    single = ids(assessor, lot_case("higher", True, non_device_cause_identified=False))
    mixed = ids(assessor, lot_case("higher", True, drugs=("morphine", "bupivacaine", "clonidine"),
                                   non_device_cause_identified=False))
    fig8 = {"suspected_underdelivery", "consider_longitudinal_monitoring",
            "manufacturer_guidance_for_discrepancy", "diagnostic_bolus_considered",
            "bolus_response_needed"}
    assert fig8 <= single
    assert fig8 <= mixed


def test_questions_name_the_missing_findings(assessor: Assessor) -> None:
    a = assessor.assess(lot_case())
    needs = {q.id: q.needs for q in a.questions}
    assert needs["non_device_cause_question"] == "presentation.non_device_cause_identified"
    assert needs["reservoir_aspiration_needed"] == "reservoir.measured_volume_ml"
    asked_by = {x.rule for q in a.questions if q.id == "reservoir_aspiration_needed"
                for x in q.asked_by}
    assert "lot_no_cause_aspirate" in asked_by
    b = assessor.assess(lot_case("higher", True, non_device_cause_identified=False))
    needs_b = {q.id: q.needs for q in b.questions}
    assert needs_b["bolus_response_needed"] == "diagnostic_bolus.response"


# -- the checks fail when a rule is broken (mutation tests) ---------------------------------
LOT = "rules/loss_of_therapy.yaml"
LOT_MUTATIONS: dict[str, Mutation] = {
    "diagnostic bolus guards dropped": (LOT, [(
        "      - not: {fact: presentation, where: {kind: overdose}}\n"
        "      - not:\n"
        "          fact: conclusion\n"
        "          where:\n"
        "            id:\n"
        "              in: [titrated_naloxone, consider_reducing_rate_or_stopping_pump,\n"
        "                   do_not_refill_explant_replace, stop_intrathecal_delivery,\n"
        "                   surgical_pump_replacement]\n", "")]),
    "bolus without an expected response": (LOT, [
        ("        where: {noticeable_response_expected: true, response: {present: false}}\n",
         "        where: {noticeable_response_expected: {ne: false}, response: {present: false}}\n"
         )]),
    "no response read as catheter malfunction when none was expected": (LOT, [
        ("where: {response: none, noticeable_response_expected: {ne: false, if_missing: pass}}",
         "where: {response: none}")]),
    "refill with a permanent stall and no replacement guard": (LOT, [
        ("      - not: {fact: interrogation, where: {motor_stall: {eq: permanent, "
         "if_missing: fail}}}\n", ""),
        ("                   surgical_pump_replacement, pump_replacement_end_of_service,\n",
         "                   pump_replacement_end_of_service,\n")]),
    "lower volume read as under-delivery": (LOT, [
        ("        where: {direction: lower}\n", "        where: {direction: higher}\n")]),
}


@pytest.mark.parametrize("name", sorted(LOT_MUTATIONS))
def test_checks_catch_a_broken_loss_of_therapy_rule(name: str, tmp_path: Path) -> None:
    broken = mutated_assessor(tmp_path, LOT_MUTATIONS[name])
    assert scenario_problems(broken, limit=1), f"the checks missed: {name}"
