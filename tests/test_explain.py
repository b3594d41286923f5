"""`pumpdx explain --why / --why-not` and the API behind it: every concept that the
algorithms a case entered could have concluded, and did not, is explained by a rule and
its failing condition, with the values it saw or "finding not entered"."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pumpdx.engine.assess import Assessor
from pumpdx.engine.casesuite import collect_files, load_item, run_item
from pumpdx.engine.conditions import FactBase
from pumpdx.engine.explain import Explainer, explainer_for, format_why_not, why, why_not
from pumpdx.engine.inputs import load_case

from .conftest import CASES_DIR, KB_DIR
from .test_cli import run_cli

BUNDLED = sorted(CASES_DIR.glob("*.yaml"))


@pytest.fixture(scope="module")
def explainer(assessor: Assessor) -> Explainer:
    return explainer_for(assessor.kb)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_every_unconcluded_concept_of_the_entered_algorithms_is_explained(
        path: Any, assessor: Assessor, explainer: Explainer) -> None:
    assessment = assessor.assess(load_case(str(path)))
    missing = explainer.not_concluded(assessment)
    assert missing, "the case entered no algorithm"
    for algorithm, concepts in missing.items():
        for concept in concepts:
            w = explainer.why_not(assessment, concept)
            assert not w.concluded and w.rules, (algorithm, concept)
            failed = [r for r in w.rules if r.status == "failed"]
            assert failed, f"{concept}: no rule with a failing condition"
            assert all(r.status in ("failed", "not_expanded") for r in w.rules)
            for r in failed:
                assert r.failure is not None and r.failure.path.startswith("when[")
                assert r.failure.condition and r.failure.message
            text = format_why_not(w)
            assert failed[0].rule in text and failed[0].failure.path in text


def test_evaluator_agrees_with_the_engine_on_every_scenario(assessor: Assessor,
                                                            explainer: Explainer) -> None:
    """A rule that did not fire has a failing condition on the final facts; the
    evaluator uses the compiled patterns, so this checks it against experta itself."""
    items = [load_item(p, p.name) for p in collect_files([KB_DIR / "scenarios"])]
    checked = 0
    for item in items[::3]:
        run = run_item(assessor, item)
        assert run.assessment is not None
        facts = FactBase(run.assessment.trace.facts, assessor.kb)
        fired = run.fired_rules()
        for lr in assessor.kb.rules:
            if lr.rule.id not in fired:
                assert explainer.evaluator.first_failure(list(lr.rule.when), facts) is not None, \
                    (item.path, lr.rule.id)
                checked += 1
    assert checked > 1000


def test_withdrawal_case_explains_why_no_naloxone(assessor: Assessor) -> None:
    a = assessor.assess(load_case(str(CASES_DIR / "taha_residual_volume_withdrawal.yaml")))
    w = why_not(a, "titrated_naloxone", assessor.kb)
    rules = {r.rule: r for r in w.rules}
    assert set(rules) == {"ow_overdose_opioid_naloxone", "ow_opioid_toxicity_signs"}
    assert rules["ow_opioid_toxicity_signs"].status == "failed"
    rule = rules["ow_overdose_opioid_naloxone"]
    assert rule.status == "failed"
    assert rule.failure is not None and rule.failure.reason == "no_match"
    assert "kind: overdose" in rule.failure.condition
    assert rule.failure.facts[0].values == {"kind": "withdrawal"}
    assert rule.failure.facts[0].failed == ["kind"]


def test_missing_section_and_missing_field_say_finding_not_entered(run: Any,
                                                                   kb: Any) -> None:
    a = run({"pump": {"manufacturer": "medtronic", "model": "synchromed_ii"},
             "drugs": [{"agent": "morphine"}],
             "presentation": {"problems": ["withdrawal"]}})
    w = why_not(a, "stop_intrathecal_delivery", kb)
    (rule,) = w.rules
    assert rule.failure is not None and rule.failure.reason == "not_entered"
    assert rule.failure.message == "finding not entered: the case has no imaging"
    w = why_not(a, "escalate_to_experienced_center", kb)
    reasons = {r.rule: r.failure.message for r in w.rules if r.failure}
    assert reasons["triage_escalate_rapidly_evolving"] == \
        "finding not entered: presentation.rapidly_evolving"


def test_threshold_just_not_exceeded_shows_the_value(run: Any, kb: Any) -> None:
    """Prometra after MRI with exactly 1 mL aspirated: not over 1 mL, so the 'valves may
    be open' rule fails on the aspirate, and its value is shown."""
    a = run({"pump": {"manufacturer": "flowonix", "model": "prometra_ii"},
             "drugs": [{"agent": "morphine"}],
             "presentation": {"problems": ["loss_of_therapy"]},
             "exposures": [{"kind": "mri", "post_mri_aspirate_ml": 1.0,
                            "interrogated_after": True}]})
    assert "prometra_valves_may_be_open" not in a.conclusion_ids()
    w = why_not(a, "prometra_valves_may_be_open", kb)
    rule = next(r for r in w.rules if r.rule == "exp_prometra_valves_open")
    assert rule.failure is not None and rule.failure.reason == "no_match"
    assert rule.failure.facts[0].values["post_mri_aspirate_ml"] == 1.0
    assert "post_mri_aspirate_ml" in rule.failure.facts[0].failed


def test_why_not_follows_derived_facts_to_the_depth_asked(assessor: Assessor) -> None:
    a = assessor.assess(load_case(str(CASES_DIR / "maino_fentanyl_overinfusion.yaml")))
    deep = why_not(a, "refill_to_restore_therapy", assessor.kb, depth=3)
    rule = next(r for r in deep.rules if r.rule == "ow_withdrawal_refill")
    assert rule.failure is not None and rule.failure.reason == "not_derived"
    (producer,) = rule.failure.needs
    assert producer.rule == "ow_withdrawal_predominant" and producer.status == "failed"
    shallow = why_not(a, "refill_to_restore_therapy", assessor.kb, depth=1)
    rule = next(r for r in shallow.rules if r.rule == "ow_withdrawal_refill")
    assert rule.failure is not None
    assert [n.status for n in rule.failure.needs] == ["not_expanded"]


def test_blocked_by_a_fact_names_it(run: Any, kb: Any) -> None:
    a = run({"pump": {"manufacturer": "medtronic", "model": "synchromed_ii"},
             "drugs": [{"agent": "morphine", "concentration_mg_per_ml": 10}],
             "presentation": {"problems": ["withdrawal"]}})
    w = why_not(a, "drugs_and_concentrations_needed", kb)
    (rule,) = w.rules
    assert rule.failure is not None and rule.failure.reason == "blocked"
    assert rule.failure.facts[0].type == "drug"


def test_why_lists_the_firing_and_what_it_matched(assessor: Assessor) -> None:
    a = assessor.assess(load_case(str(CASES_DIR / "maino_fentanyl_overinfusion.yaml")))
    w = why(a, "titrated_naloxone", assessor.kb)
    assert w.concluded
    (firing,) = w.firings
    assert firing.rule == "ow_overdose_opioid_naloxone"
    drugs = [m for m in firing.matched if m.type == "drug"]
    assert drugs[0].content["agent"] == "fentanyl"
    handover = next(m for m in firing.matched if m.type == "handover")
    assert handover.derived_by is not None and handover.derived_by.rule == "ow_entry"


def test_explain_cli_text_json_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    case = str(CASES_DIR / "taha_residual_volume_withdrawal.yaml")
    code, out, _ = run_cli(capsys, "explain", case, "--why-not", "titrated_naloxone")
    assert code == 0 and "ow_overdose_opioid_naloxone" in out and "when[1]" in out
    code, out, _ = run_cli(capsys, "explain", case, "--why-not", "titrated_naloxone", "--json")
    assert code == 0 and json.loads(out)["rules"][0]["failure"]["reason"] == "no_match"
    code, out, _ = run_cli(capsys, "explain", case, "--why", "refill_to_restore_therapy")
    assert code == 0
    code, out, _ = run_cli(capsys, "explain", case, "--why-not", "all", "--json")
    assert code == 0 and all(not w["concluded"] for w in json.loads(out))
    code, _, err = run_cli(capsys, "explain", case, "--why-not", "titrated_naloxon")
    assert code == 2 and "did you mean 'titrated_naloxone'" in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = run_cli(capsys, "explain", case, "--why-not", "x", "--depth", "0")
    assert code == 2 and "--depth" in err
