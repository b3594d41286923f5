"""Intrathecal trial planning (seed 004): the level choice over every combination of
findings, the patient groups and agents, and that trial planning stays out of device
troubleshooting."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from pumpdx.engine.inputs import InputError, case_from_data
from pumpdx.kb.facts import Case
from pumpdx.kb.facts.trial import SpinalLevel, TrialAgent, TrialIndication, TrialTechnique
from pumpdx.kb.loader import KnowledgeBase

TRI = (None, True, False)
LEVEL_WARNINGS = {"trial_level_outside_l1_s1", "trial_level_skin_breakdown_or_infection",
                  "trial_level_previous_surgery", "trial_level_not_visualised"}


def trial_case(**trial: Any) -> dict[str, Any]:
    return {"presentation": {"problems": ["trial_planning"]},
            "trial": {"indication": "pain", "agent": "opioid", "technique": "single_shot",
                      "space": "intrathecal", **trial}}


def test_level_choice_over_every_combination(run: Any) -> None:
    """Every level x skin breakdown x infection x previous surgery x visualisation
    (each unknown, yes or no): 486 cases against the excerpt's criteria."""
    wrong = []
    for level, skin, infection, surgery, seen in itertools.product(
            [str(lv.value) for lv in SpinalLevel], TRI, TRI, TRI, TRI):
        entry: dict[str, Any] = {"level": level}
        for key, value in (("skin_breakdown", skin), ("infection", infection),
                           ("prior_spine_surgery", surgery),
                           ("interlaminar_space_visualised", seen)):
            if value is not None:
                entry[key] = value
        ids = run(trial_case(planned_level=level, levels=[entry])).conclusion_ids()
        expected_warnings = set()
        if level == "T12-L1":
            expected_warnings.add("trial_level_outside_l1_s1")
        if skin or infection:
            expected_warnings.add("trial_level_skin_breakdown_or_infection")
        if surgery:
            expected_warnings.add("trial_level_previous_surgery")
        if seen is False:
            expected_warnings.add("trial_level_not_visualised")
        suitable = (not expected_warnings and skin is False and infection is False
                    and surgery is False and seen is True)
        unknown = None in (skin, infection, surgery, seen)
        got = (ids & LEVEL_WARNINGS, "trial_level_suitable" in ids,
               "trial_level_findings_needed" in ids, "trial_level_choice_criteria" in ids)
        if got != (expected_warnings, suitable, unknown, not suitable):
            wrong.append((level, skin, infection, surgery, seen, got))
    assert wrong == []


def test_only_the_planned_level_is_judged(run: Any) -> None:
    bad = {"skin_breakdown": True, "infection": True, "prior_spine_surgery": True,
           "interlaminar_space_visualised": False}
    good = {"skin_breakdown": False, "infection": False, "prior_spine_surgery": False,
            "interlaminar_space_visualised": True}
    ids = run(trial_case(planned_level="L2-L3",
                         levels=[{"level": "L2-L3", **good}, {"level": "L4-L5", **bad},
                                 {"level": "T12-L1", **good}])).conclusion_ids()
    assert "trial_level_suitable" in ids
    assert not ids & LEVEL_WARNINGS
    ids = run(trial_case(planned_level="L4-L5",
                         levels=[{"level": "L2-L3", **good}, {"level": "L4-L5", **bad}])
              ).conclusion_ids()
    assert "trial_level_suitable" not in ids
    assert ids & LEVEL_WARNINGS == LEVEL_WARNINGS - {"trial_level_outside_l1_s1"}


@pytest.mark.parametrize(("indication", "agent"), list(itertools.product(
    [str(i.value) for i in TrialIndication], [str(a.value) for a in TrialAgent])))
def test_agent_matches_the_group(run: Any, indication: str, agent: str) -> None:
    ids = run(trial_case(indication=indication, agent=agent)).conclusion_ids()
    named = {"pain": {"opioid", "ziconotide", "combination"}, "spasticity": {"baclofen"}}
    assert ("trial_agent_not_named_for_group" in ids) == (agent not in named[indication])
    assert ("trial_pain_group" in ids) == (indication == "pain")
    assert ("trial_spasticity_group" in ids) == (indication == "spasticity")


@pytest.mark.parametrize(("indication", "technique"), list(itertools.product(
    [str(i.value) for i in TrialIndication], [str(t.value) for t in TrialTechnique])))
def test_catheter_position_for_catheter_trials(run: Any, indication: str,
                                               technique: str) -> None:
    ids = run(trial_case(indication=indication, technique=technique)).conclusion_ids()
    expected = indication == "pain" and technique.startswith("catheter_")
    assert ("trial_catheter_near_pain_generator" in ids) == expected


def test_missing_choices_are_asked_for(run: Any) -> None:
    result = run({"presentation": {"problems": ["trial_planning"]},
                  "trial": {"indication": "pain"}})
    needs = {q.needs for q in result.questions}
    assert {"trial.technique", "trial.space", "trial.agent", "trial.planned_level"} <= needs
    assert "trial_level_suitable" not in result.conclusion_ids()


def test_trial_planning_is_not_device_troubleshooting(run: Any, kb: KnowledgeBase) -> None:
    """A trial has no implanted pump: nothing urgent, no suspected device cause, and only
    trial-planning rules fire."""
    good = {"skin_breakdown": False, "infection": False, "prior_spine_surgery": False,
            "interlaminar_space_visualised": True}
    result = run(trial_case(planned_level="L3-L4", levels=[{"level": "L3-L4", **good}]))
    assert not result.by_kind("urgent_action")
    assert not result.by_kind("suspected_cause")
    assert {f.algorithm for f in result.trace.firings} == {"trial_planning"}
    cites = {c for concl in result.conclusions for c in concl.citations}
    assert cites and all(c.startswith("Trial chapter:") for c in cites)


def test_trial_presentation_without_trial_details_asks_for_them(run: Any) -> None:
    result = run({"pump": {"model": "synchromed_ii", "reservoir_ml": 20},
                  "presentation": {"problems": ["trial_planning"]}})
    assert "trial.indication" in {q.needs for q in result.questions}


def test_unknown_level_findings_are_not_assumed_absent() -> None:
    case = Case.model_validate(trial_case(levels=[{"level": "L3-L4"}]))
    assert case.trial is not None
    entry = case.trial.levels[0]
    assert (entry.skin_breakdown, entry.infection, entry.prior_spine_surgery,
            entry.interlaminar_space_visualised) == (None, None, None, None)


@pytest.mark.parametrize(("trial", "fragment"), [
    ({"levels": [{"level": "L3-L4"}, {"level": "L3-L4"}]}, "each level may appear once"),
    ({"planned_level": "L6-S1"}, "trial.planned_level"),
    ({"indication": "migraine"}, "trial.indication"),
    ({"levels": [{"level": "L3-L4", "skin_breakdown": "maybe"}]}, "skin_breakdown"),
])
def test_bad_trial_input_gives_one_clear_line(trial: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InputError) as err:
        case_from_data(trial_case(**trial), "case.yaml")
    message = str(err.value)
    assert "\n" not in message
    assert fragment in message
