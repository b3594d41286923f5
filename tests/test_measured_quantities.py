"""Measured quantities are compared at the precision they are entered (review 5.1).

Every threshold of 5.1 (>1 mL for 20 mL pumps, >2 mL for 40 mL pumps), each pump model
and size, both sides of each threshold, with volumes whose binary-float difference
lands on the wrong side (8.3 - 7.3 = 1.0000000000000009 in floats).
"""

from __future__ import annotations

from typing import Any

import pytest

from pumpdx.engine.assess import Assessor
from pumpdx.kb import calculations
from pumpdx.kb.facts import Case
from pumpdx.kb.loader import KnowledgeBase
from pumpdx.kb.quantity import exact
from pumpdx.kb.rulelang import compare

# (expected, measured): exactly at the threshold (the float difference is beyond it)
AT_1 = [(8.3, 7.3), (7.3, 8.3), (3.4, 4.4)]
AT_2 = [(14.6, 16.6), (4.4, 2.4)]
# just beyond the threshold
BEYOND_1 = [(8.3, 7.2), (3.4, 4.5)]
BEYOND_2 = [(12.3, 10.2), (14.6, 16.7)]


def test_the_float_trap_is_real() -> None:
    assert 7.3 - 8.3 < -1 and 16.6 - 14.6 > 2 and 2.4 - 4.4 < -2
    assert exact(7.3) - exact(8.3) == -1


def _direction(params: dict[str, Any], expected: float, measured: float,
               capacity: float | None) -> str | None:
    if capacity is None:
        out = calculations.reservoir_discrepancy_any_size(expected, measured, params=params)
    else:
        out = calculations.reservoir_discrepancy(expected, measured, capacity, params=params)
    return out[0].fields["direction"] if out else None


def _side(expected: float, measured: float, beyond: bool) -> str:
    if not beyond:
        return "none"
    return "higher" if measured > expected else "lower"


@pytest.mark.parametrize("capacity", [20.0, 40.0])
@pytest.mark.parametrize(("expected", "measured", "beyond_1", "beyond_2"), [
    *[(e, m, False, False) for e, m in AT_1],
    *[(e, m, True, False) for e, m in BEYOND_1],
    *[(e, m, True, False) for e, m in AT_2],
    *[(e, m, True, True) for e, m in BEYOND_2],
])
def test_discrepancy_class_at_every_threshold(kb: KnowledgeBase, capacity: float,
                                              expected: float, measured: float,
                                              beyond_1: bool, beyond_2: bool) -> None:
    beyond = beyond_1 if capacity == 20 else beyond_2
    got = _direction(kb.param_values(), expected, measured, capacity)
    assert got == _side(expected, measured, beyond)


@pytest.mark.parametrize(("expected", "measured", "direction"), [
    (10.0, 10.0, "none"), (8.3, 7.3, "none"), (7.3, 8.3, "none"),   # within 1 mL: any size
    (8.3, 7.2, None), (14.6, 16.6, None), (4.4, 2.4, None),         # 1-2 mL: depends on size
    (12.3, 10.2, "lower"), (14.6, 16.7, "higher"), (10.0, 7.5, "lower"),  # beyond 2 mL
])
def test_reservoir_size_unknown_only_where_the_class_does_not_depend_on_it(
        kb: KnowledgeBase, expected: float, measured: float, direction: str | None) -> None:
    assert _direction(kb.param_values(), expected, measured, None) == direction


def test_a_difference_is_stored_at_the_entered_precision(kb: KnowledgeBase) -> None:
    [fact] = calculations.reservoir_discrepancy(8.3, 7.3, 20.0, params=kb.param_values())
    assert fact.fields["difference_ml"] == -1.0 and fact.fields["threshold_ml"] == 1.0


@pytest.mark.parametrize(("op", "value", "operand", "holds"), [
    ("le", 2.0, 2, True), ("lt", 2.0, 2, False), ("gt", 1.0, 1, False), ("ge", 0.3, 0.3, True),
    ("eq", 0.1 + 0.2, 0.3, False),  # a computed float is not an entered 0.3
])
def test_field_tests_compare_entered_decimals(op: str, value: float, operand: float,
                                              holds: bool) -> None:
    assert compare(op, value, operand) is holds


def _case(model: str, capacity: float | None, expected: float, measured: float) -> Case:
    pump: dict[str, Any] = {"model": model}
    if capacity is not None:
        pump["reservoir_ml"] = capacity
    return Case.model_validate({
        "pump": pump, "drugs": [{"agent": "morphine", "concentration_mg_per_ml": 10}],
        "presentation": {"problems": ["loss_of_therapy"]},
        "reservoir": {"expected_volume_ml": expected, "measured_volume_ml": measured}})


CLASS = {"none": "volume_as_expected", "lower": "volume_lower_than_expected",
         "higher": "volume_higher_than_expected"}


@pytest.mark.parametrize(("model", "capacity"), [
    ("synchromed_ii", 20), ("synchromed_ii", 40), ("prometra", 20), ("prometra_ii", 20),
    ("prometra_ii", 40), ("synchromed_el", 18)])
@pytest.mark.parametrize(("expected", "measured"), [*AT_1, *BEYOND_1, *AT_2, *BEYOND_2])
def test_each_pump_and_size_classes_volumes_as_entered(
        assessor: Assessor, model: str, capacity: float, expected: float,
        measured: float) -> None:
    threshold = 2 if capacity == 40 else 1  # 18 mL: the smallest threshold (extrapolated)
    difference = exact(measured) - exact(expected)
    side = "none" if abs(difference) <= threshold else ("higher" if difference > 0 else "lower")
    ids = assessor.assess(_case(model, capacity, expected, measured)).conclusion_ids()
    assert CLASS[side] in ids
    assert not (set(CLASS.values()) - {CLASS[side]}) & ids


def test_expected_volume_from_the_daily_dose_and_concentration() -> None:
    # 2 mg/day at 10 mg/mL = 0.2 mL/day; 20 mL - 30 days x 0.2 mL/day = 14 mL
    [fact] = calculations.expected_volume_from_daily_dose(20, 30, 2, 10)
    assert fact.fields == {"volume_ml": 14.0, "source": "dose_and_concentration"}
    # 2.4 mcg/day at 0.1 mg/mL (100 mcg/mL) = 0.024 mL/day; 20 - 50 x 0.024 = 18.8 mL
    [mcg] = calculations.expected_volume_from_daily_dose_mcg(20, 50, 2.4, 0.1)
    assert mcg.fields["volume_ml"] == 18.8
    # never below empty
    [empty] = calculations.expected_volume_from_daily_dose(20, 400, 2, 10)
    assert empty.fields["volume_ml"] == 0.0


@pytest.mark.parametrize(("volume", "threshold", "low"), [
    (4.0, 4.0, True), (3.0, 4.0, True), (4.1, 4.0, False), (1.5, 1.0, False)])
def test_alarm_threshold_check(volume: float, threshold: float, low: bool) -> None:
    [fact] = calculations.alarm_threshold_check(volume, threshold)
    assert fact.fields["at_or_below"] is low
