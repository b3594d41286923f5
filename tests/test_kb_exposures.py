"""External exposures and MRI conditions (review 4, 4.1): every condition is checked at its
boundary against kb/parameters.yaml, and a Prometra pump with open valves is never refilled."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from pumpdx.engine.assess import Assessor
from pumpdx.engine.safety import violations
from pumpdx.kb.facts import Case
from pumpdx.kb.loader import KnowledgeBase

from .test_kb_overdose_withdrawal import Mutation, mutated_assessor, scenario_problems

SYNCHROMED_OK: dict[str, Any] = {
    "kind": "mri", "status": "planned", "field_strength_t": 1.5,
    "scanner_type": "horizontal_cylindrical", "hydrogen_imaging": True,
    "max_spatial_gradient_t_per_m": 10, "max_slew_rate_t_per_m_per_s": 100,
    "rf_mode": "normal", "active_scan_minutes": 15, "torso_scan": False}
PROMETRA_OK: dict[str, Any] = {
    "kind": "mri", "status": "planned", "field_strength_t": 1.5, "max_spatial_gradient_t_per_m": 2,
    "sar_w_per_kg": 1.0, "active_scan_minutes": 10, "reservoir_emptied": True,
    "flow_set_to_zero": True}


def param(kb: KnowledgeBase, name: str) -> float:
    value = kb.parameters[name].value
    assert isinstance(value, int | float)
    return float(value)


def mri_case(model: str, exposure: dict[str, Any], problems: tuple[str, ...] = ("mri_planned",),
             **extra: Any) -> Case:
    return Case.model_validate({"pump": {"model": model}, "drugs": [{"agent": "morphine"}],
                                "presentation": {"problems": list(problems)},
                                "exposures": [exposure], **extra})


def warnings_and_questions(assessor: Assessor, c: Case) -> set[str]:
    a = assessor.assess(c)
    return ({x.id for x in a.conclusions if x.kind == "warning"} | {q.id for q in a.questions})


# -- conformity: an MRI within every condition raises nothing ---------------------------------
@pytest.mark.parametrize(("model", "exposure"), [
    ("synchromed_ii", SYNCHROMED_OK),
    ("synchromed_iii", {**SYNCHROMED_OK, "field_strength_t": 3.0}),
    ("prometra", PROMETRA_OK), ("prometra_ii", PROMETRA_OK)])
def test_conforming_mri_has_no_condition_warning_or_question(assessor: Assessor, model: str,
                                                             exposure: dict[str, Any]) -> None:
    got = warnings_and_questions(assessor, mri_case(model, exposure))
    condition_concepts = {i for i in got if i.startswith(("synchromed_mri", "prometra_mri", "mri_",
                                                          "prometra_reservoir", "prometra_flow"))}
    assert condition_concepts == set()


# -- each numeric condition at its boundary (values from kb/parameters.yaml) ---------------------
NUMERIC = [
    ("synchromed_ii", SYNCHROMED_OK, "max_spatial_gradient_t_per_m",
     "synchromed_mri_max_spatial_gradient_t_per_m", "synchromed_mri_gradient_exceeded", True),
    ("synchromed_ii", SYNCHROMED_OK, "max_slew_rate_t_per_m_per_s",
     "synchromed_mri_max_slew_rate_t_per_m_per_s", "synchromed_mri_slew_exceeded", True),
    ("synchromed_iii", SYNCHROMED_OK, "active_scan_minutes",
     "synchromed_mri_max_active_scan_minutes", "synchromed_mri_scan_time_exceeded", False),
    ("prometra", PROMETRA_OK, "max_spatial_gradient_t_per_m",
     "prometra_mri_max_spatial_gradient_t_per_m", "prometra_mri_gradient_exceeded", True),
    ("prometra_ii", PROMETRA_OK, "sar_w_per_kg", "prometra_mri_max_sar_w_per_kg",
     "prometra_mri_sar_exceeded", True),
    ("prometra", PROMETRA_OK, "active_scan_minutes", "prometra_mri_max_scan_minutes",
     "prometra_mri_scan_time_exceeded", True),
]


@pytest.mark.parametrize(("model", "base", "field", "parameter", "warning", "limit_allowed"),
                         NUMERIC, ids=[f"{n[0]}-{n[2]}" for n in NUMERIC])
def test_numeric_condition_boundary(assessor: Assessor, kb: KnowledgeBase, model: str,
                                    base: dict[str, Any], field: str, parameter: str,
                                    warning: str, limit_allowed: bool) -> None:
    limit = param(kb, parameter)
    at_limit = warnings_and_questions(assessor, mri_case(model, {**base, field: limit}))
    above = warnings_and_questions(assessor, mri_case(model, {**base, field: limit + 0.5}))
    below = warnings_and_questions(assessor, mri_case(model, {**base, field: limit - 0.5}))
    missing = warnings_and_questions(assessor, mri_case(
        model, {k: v for k, v in base.items() if k != field}))
    assert warning in above
    assert warning not in below
    assert (warning in at_limit) == (not limit_allowed)
    assert warning not in missing
    assert any(kb.concepts[q].kind == "question" and kb.concepts[q].needs == f"exposures[].{field}"
               for q in missing)


def test_synchromed_field_strengths_are_the_parameters(assessor: Assessor,
                                                       kb: KnowledgeBase) -> None:
    low = param(kb, "synchromed_mri_field_strength_low_t")
    high = param(kb, "synchromed_mri_field_strength_high_t")
    warning = "synchromed_mri_field_strength_not_allowed"
    for strength, allowed in ((low, True), (high, True), (low - 0.1, False),
                              ((low + high) / 2, False), (high + 0.1, False)):
        got = warnings_and_questions(assessor, mri_case(
            "synchromed_ii", {**SYNCHROMED_OK, "field_strength_t": strength}))
        assert (warning not in got) == allowed, strength


@pytest.mark.parametrize(("strength", "synchromed_ok", "prometra_ok"),
                         [(1.5, True, True), (3.0, True, False), (1.0, False, False),
                          (7.0, False, False)])
def test_field_strength(assessor: Assessor, strength: float, synchromed_ok: bool,
                        prometra_ok: bool) -> None:
    sm = warnings_and_questions(assessor, mri_case("synchromed_ii",
                                                   {**SYNCHROMED_OK, "field_strength_t": strength}))
    pr = warnings_and_questions(assessor, mri_case("prometra",
                                                   {**PROMETRA_OK, "field_strength_t": strength}))
    assert ("synchromed_mri_field_strength_not_allowed" not in sm) == synchromed_ok
    assert ("prometra_mri_field_strength_not_allowed" not in pr) == prometra_ok


def test_synchromed_conditions_do_not_apply_to_prometra(assessor: Assessor) -> None:
    bad_for_synchromed = {**PROMETRA_OK, "scanner_type": "open_sided",
                          "rf_mode": "second_level_controlled",
                          "max_slew_rate_t_per_m_per_s": 500}
    got = warnings_and_questions(assessor, mri_case("prometra", bad_for_synchromed))
    assert not {i for i in got if i.startswith("synchromed_")}


# -- Prometra after MRI: never refill with an aspirate over 1 mL -----------------------------
ASPIRATES = [0.0, 0.5, 1.0, 1.01, 2.0, 10.0]
PRESENTATIONS = [("mri_done",), ("withdrawal", "mri_done"), ("loss_of_therapy",),
                 ("alarm", "routine_refill"), ("overdose",)]


@pytest.mark.parametrize("problems", PRESENTATIONS, ids="+".join)
def test_prometra_post_mri_aspirate_decides_refill(assessor: Assessor, kb: KnowledgeBase,
                                                   problems: tuple[str, ...]) -> None:
    limit = param(kb, "prometra_post_mri_open_valve_aspirate_ml")
    for model, aspirate, low_alarm in itertools.product(("prometra", "prometra_ii"), ASPIRATES,
                                                        (False, True)):
        extra: dict[str, Any] = {"interrogation": {
            "motor_stall": "none", "flow_rate_mg_per_day": 0,
            "alarms_logged": ["low_reservoir"] if low_alarm else []}}
        if low_alarm:
            extra["audible_alarm"] = {"pattern": "two_short_beeps_every_30_min"}
        exposure = {**PROMETRA_OK, "status": "done", "interrogated_after": True,
                    "post_mri_aspirate_ml": aspirate}
        c = mri_case(model, exposure, problems, **extra)
        a = assessor.assess(c)
        got = a.conclusion_ids()
        refills = {x.id for x in a.conclusions if "refill" in kb.concepts[x.id].tags}
        where = (model, aspirate, low_alarm)
        if aspirate > limit:
            assert "do_not_refill_explant_replace" in got, where
            assert "prometra_valves_may_be_open" in got, where
            assert refills == set(), where
        else:
            assert "do_not_refill_explant_replace" not in got, where
            assert ("prometra_post_mri_refill" in got) == ("overdose" not in problems), where
        assert a.conflicts == [], where
        assert violations(c, a, kb) == [], where


def test_prometra_refill_waits_for_the_post_mri_interrogation(assessor: Assessor) -> None:
    exposure = {**PROMETRA_OK, "status": "done", "post_mri_aspirate_ml": 0.2}
    got = assessor.assess(mri_case("prometra", exposure, ("mri_done",))).conclusion_ids()
    assert "prometra_post_mri_interrogation_needed" in got
    assert "prometra_post_mri_refill" not in got


# -- asking about exposures (4) ----------------------------------------------------------------
@pytest.mark.parametrize(("problems", "asked"), [
    (["overdose"], True), (["withdrawal"], True), (["loss_of_therapy"], True), (["alarm"], True),
    (["routine_refill"], False), (["new_neurological_deficit"], False)])
def test_exposure_question_for_device_related_presentations(
        assessor: Assessor, problems: list[str], asked: bool) -> None:
    base: dict[str, Any] = {"pump": {"model": "synchromed_ii"}, "drugs": [{"agent": "morphine"}]}
    unasked = Case.model_validate({**base, "presentation": {"problems": problems}})
    answered = Case.model_validate({**base, "presentation": {"problems": problems,
                                                              "external_exposures_asked": True}})
    recorded = Case.model_validate({**base, "presentation": {"problems": problems},
                                    "exposures": [{"kind": "scuba"}]})
    q = "ask_about_external_exposures"
    assert (q in assessor.assess(unasked).conclusion_ids()) == asked
    assert q not in assessor.assess(answered).conclusion_ids()
    assert q not in assessor.assess(recorded).conclusion_ids()


def test_symptoms_after_mri_suspect_stall_or_memory_error_in_synchromed_only(
        assessor: Assessor) -> None:
    done = {**SYNCHROMED_OK, "status": "done"}
    synchromed = assessor.assess(mri_case("synchromed_ii", done, ("withdrawal",))).conclusion_ids()
    assert {"post_mri_device_malfunction", "pump_motor_stall", "pump_memory_error",
            "interrogate_after_mri", "synchromed_rotor_stalls_in_field"} <= synchromed
    prometra = assessor.assess(mri_case(
        "prometra", {**PROMETRA_OK, "status": "done"}, ("withdrawal",))).conclusion_ids()
    assert not {"post_mri_device_malfunction", "synchromed_rotor_stalls_in_field"} & prometra
    assert "prometra_post_mri_protocol" in prometra


# -- the checks fail when a rule is broken (mutation tests) ---------------------------------
EXP = "rules/external_exposures.yaml"
EXP_MUTATIONS: dict[str, Mutation] = {
    "open-valve threshold loosened": (EXP, [
        ("post_mri_aspirate_ml: {gt: {param: prometra_post_mri_open_valve_aspirate_ml}}",
         "post_mri_aspirate_ml: {gt: 5}")]),
    "Prometra refill ignores the aspirate and the do-not-refill": (EXP, [
        ("post_mri_aspirate_ml: {le: {param: prometra_post_mri_open_valve_aspirate_ml}}",
         "post_mri_aspirate_ml: {present: true}"),
        ("              in: [do_not_refill_explant_replace, stop_intrathecal_delivery,\n",
         "              in: [stop_intrathecal_delivery,\n")]),
    "SynchroMed gradient limit ignored": (EXP, [
        ("{gt: {param: synchromed_mri_max_spatial_gradient_t_per_m}}", "{gt: 1000}")]),
    "Prometra field strength not checked": (EXP, [
        ("field_strength_t: {present: true, ne: {param: prometra_mri_field_strength_t}}",
         "field_strength_t: {present: true, gt: 20}")]),
    "no question for an unrecorded scanner type": (EXP, [
        ("where: {kind: mri, scanner_type: {present: false}}",
         "where: {kind: mri, scanner_type: {present: true}}")]),
}


@pytest.mark.parametrize("name", sorted(EXP_MUTATIONS))
def test_checks_catch_a_broken_exposure_rule(name: str, tmp_path: Path) -> None:
    broken = mutated_assessor(tmp_path, EXP_MUTATIONS[name])
    assert scenario_problems(broken, limit=1), f"the checks missed: {name}"
