"""A missing finding is unknown, never "no": the rule language says which a test means.

The semantics live in pumpdx.kb.rulelang (used by the compiler and by lint); `kb lint`
reports a test that reads a finding that can be missing without saying what a missing
finding does (check `absent_finding`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pumpdx.engine.assess import Assessor
from pumpdx.kb.facts import Case
from pumpdx.kb.lint import lint_kb
from pumpdx.kb.loader import load_kb
from pumpdx.kb.rulelang import field_predicate, missing_passes
from pumpdx.kb.schema import FieldTest

from .fixtures.minikb import mutated_shipped_kb

VOL = "rules/volume_reconciliation.yaml"
LOT = "rules/loss_of_therapy.yaml"


def _test(**spec: object) -> FieldTest:
    return FieldTest.model_validate(spec)


@pytest.mark.parametrize(("spec", "passes"), [
    ({"eq": True}, False),
    ({"ne": True}, True),                       # the ambiguous form lint reports
    ({"ne": True, "if_missing": "fail"}, False),
    ({"ne": True, "if_missing": "pass"}, True),
    ({"eq": False, "if_missing": "pass"}, True),
    ({"in": ["a", "b"]}, False),
    ({"not_in": ["a"], "if_missing": "fail"}, False),
    ({"gt": 1.0}, False),
    ({"present": False}, True),
    ({"present": True}, False),
])
def test_what_a_missing_finding_does_to_each_test(spec: dict[str, object], passes: bool) -> None:
    test = _test(**spec)
    assert missing_passes(test) is passes
    assert field_predicate(test, {})(None) is passes


def test_if_missing_does_not_change_a_known_value() -> None:
    check = field_predicate(_test(ne=True, if_missing="fail"), {})
    assert check(False) is True and check(True) is False


def test_if_missing_and_present_together_are_rejected() -> None:
    with pytest.raises(ValueError, match="use one of them"):
        _test(present=True, if_missing="pass")


def test_shipped_kb_has_no_ambiguous_test_on_a_missing_finding() -> None:
    assert [i for i in lint_kb(load_kb()) if i.check == "absent_finding"] == []


@pytest.mark.parametrize(("file", "old", "new", "rule"), [
    # step 7.4 as it was: `ne: true` let an unentered concern defer the device work-up
    (VOL, "where: {mechanical_failure_suspected: false}",
     "where: {mechanical_failure_suspected: {ne: true}}", "vol_initial_decision_non_device"),
    # a `not:` over a field that can be missing, with no word on what missing means
    (LOT, "- not: {fact: reservoir, where: {refill_possible: {eq: false, if_missing: fail}}}",
     "- not: {fact: reservoir, where: {refill_possible: false}}", "lot_refill_low_reservoir"),
    (LOT, "where: {non_device_cause_identified: {ne: true, if_missing: pass}}\n"
          "      - fact: volume_discrepancy\n        where: {direction: lower}",
     "where: {non_device_cause_identified: {not_in: [true]}}\n"
     "      - fact: volume_discrepancy\n        where: {direction: lower}", "lot_volume_lower"),
])
def test_lint_reports_the_ambiguous_forms(tmp_path: Path, file: str, old: str, new: str,
                                          rule: str) -> None:
    kb = load_kb(mutated_shipped_kb(tmp_path, {file: [(old, new)]}))
    issues = [i for i in lint_kb(kb) if i.check == "absent_finding"]
    assert [i.rule_id for i in issues] == [rule], issues
    assert "can be missing" in issues[0].message
    assert "if_missing" in issues[0].message
    lines = (tmp_path / "kb" / file).read_text(encoding="utf-8").splitlines()
    assert new.splitlines()[0].strip() in lines[issues[0].line - 1]


def test_acting_on_absence_needs_a_note(tmp_path: Path) -> None:
    root = mutated_shipped_kb(tmp_path, {"rules/external_exposures.yaml": [(
        '''    notes: >-
      4.1: "the importance of pump interrogation every time a patient undergoes MRI". An
      interrogation after the MRI that was not recorded (if_missing: pass) is recommended:
      recommending a check that may already be done is safe, omitting it is not.
''', "")]})
    issues = [i for i in lint_kb(load_kb(root)) if i.check == "absent_finding"]
    assert [i.rule_id for i in issues] == ["exp_interrogate_after_mri"]
    assert "notes must say why" in issues[0].message


def _case(**presentation: object) -> Case:
    return Case.model_validate({
        "pump": {"model": "synchromed_ii", "reservoir_ml": 20},
        "drugs": [{"agent": "morphine", "concentration_mg_per_ml": 10}],
        "presentation": {"problems": ["loss_of_therapy"], **presentation},
        "interrogation": {"motor_stall": "none"},
        "reservoir": {"expected_volume_ml": 10, "measured_volume_ml": 10},
    })


@pytest.mark.parametrize(("concern", "deferred", "asked"), [
    (None, False, True), (False, True, False), (True, False, False)])
def test_step_74_defers_the_work_up_only_on_an_entered_no(
        assessor: Assessor, concern: bool | None, deferred: bool, asked: bool) -> None:
    extra = {} if concern is None else {"mechanical_failure_suspected": concern}
    ids = assessor.assess(_case(**extra)).conclusion_ids()
    assert ("regimen_optimisation_and_follow_up" in ids) is deferred
    assert ("mechanical_failure_concern_needed" in ids) is asked
