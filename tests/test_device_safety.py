"""The device safety properties (pumpdx.engine.safety 6-9) can fail: each is broken by
one change to a copy of the knowledge base (or of the decimal arithmetic) and found on a
case from the review; the intact knowledge base passes the same case."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pumpdx.engine.assess import Assessor
from pumpdx.engine.safety import violations
from pumpdx.kb import calculations
from pumpdx.kb.facts import Case
from pumpdx.kb.loader import load_kb

from .fixtures.minikb import mutated_shipped_kb

FENTANYL_OVERDOSE = {  # review 3.2 (Maino): fentanyl overdose on a SynchroMed II
    "pump": {"model": "synchromed_ii", "reservoir_ml": 20},
    "drugs": [{"agent": "fentanyl", "concentration_mg_per_ml": 3}],
    "presentation": {"problems": ["overdose"], "signs": ["somnolence"]},
}
UNIDENTIFIED_PUMP_LOW_ALARM = {  # a logged low-reservoir alarm, pump model not yet known
    "pump": {"reservoir_ml": 20},
    "presentation": {"problems": ["alarm"]},
    "interrogation": {"alarms_logged": ["low_reservoir"]},
}
STEP_4_CONCERN_NOT_ENTERED = {  # 7.4 with mechanical_failure_suspected not entered
    "pump": {"model": "synchromed_ii", "reservoir_ml": 20},
    "drugs": [{"agent": "morphine", "concentration_mg_per_ml": 10}],
    "presentation": {"problems": ["loss_of_therapy"]},
    "interrogation": {"motor_stall": "none"},
    "reservoir": {"expected_volume_ml": 10, "measured_volume_ml": 10.4},
}
EXACTLY_ONE_ML = {  # issue 9: 8.3 mL expected, 7.3 mL aspirated, 20 mL pump
    "pump": {"model": "synchromed_ii", "reservoir_ml": 20},
    "drugs": [{"agent": "morphine", "concentration_mg_per_ml": 10}],
    "presentation": {"problems": ["loss_of_therapy"]},
    "reservoir": {"expected_volume_ml": 8.3, "measured_volume_ml": 7.3},
}

Edits = dict[str, Sequence[tuple[str, str]]]
MUTATIONS: dict[str, tuple[Edits, dict[str, Any]]] = {
    "motor_stall_only_as_underdelivery": ({"rules/overdose_withdrawal.yaml": [(
        "      - conclude: lipophilic_high_concentration_overdose\n",
        "      - conclude: lipophilic_high_concentration_overdose\n"
        "      - conclude: pump_motor_stall\n")]}, FENTANYL_OVERDOSE),
    "alarm_of_the_pumps_manufacturer": ({"rules/audible_alarms.yaml": [(
        "          - all:\n              - fact: pump\n                where: {manufacturer: "
        "flowonix}\n              - fact: logged_alarm\n                where: {kind: "
        "low_reservoir}\n",
        "          - fact: logged_alarm\n            where: {kind: low_reservoir}\n")]},
        UNIDENTIFIED_PUMP_LOW_ALARM),
    "device_workup_deferred_on_entered_findings": ({"rules/volume_reconciliation.yaml": [(
        "where: {mechanical_failure_suspected: false}",
        "where: {mechanical_failure_suspected: {ne: true, if_missing: pass}}")]},
        STEP_4_CONCERN_NOT_ENTERED),
}


def _problems(assessor: Assessor, data: dict[str, Any]) -> list[str]:
    case = Case.model_validate(data)
    return violations(case, assessor.assess(case), assessor.kb)


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_a_broken_rule_breaks_its_property(name: str, tmp_path: Path,
                                           assessor: Assessor) -> None:
    edits, case = MUTATIONS[name]
    assert _problems(assessor, case) == []
    broken = Assessor(load_kb(mutated_shipped_kb(tmp_path, edits)))
    assert any(p.startswith(f"{name}:") for p in _problems(broken, case)), name


def test_float_arithmetic_breaks_the_volume_property(monkeypatch: pytest.MonkeyPatch,
                                                     assessor: Assessor) -> None:
    assert _problems(assessor, EXACTLY_ONE_ML) == []
    monkeypatch.setattr(calculations, "exact", float)  # undo the decimal arithmetic
    problems = _problems(Assessor(load_kb()), EXACTLY_ONE_ML)
    assert any(p.startswith("volume_class_at_entered_precision:") for p in problems)
