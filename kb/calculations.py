"""Calculations that rules call with `compute: NAME`.

Each takes keyword arguments named after variables that the calling rule binds
(`$refill_ml` binds `refill_ml`), plus `params` (the KB parameters) when it asks
for it, and returns the derived facts to declare. The numbers they use come from
kb/parameters.yaml, never from literals here. The loader checks that the rule
binds every argument a calculation needs.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, overload

Params = Mapping[str, Any]


@dataclass(frozen=True)
class Derived:
    fact: str
    fields: dict[str, Any]


Calculation = Callable[..., list[Derived]]
CALCULATIONS: dict[str, Calculation] = {}
# The kb/parameters.yaml entries each calculation reads (`@calculation(params=(...))`);
# `pumpdx kb lint` uses them to find parameters that nothing uses.
CALCULATION_PARAMS: dict[str, tuple[str, ...]] = {}


@overload
def calculation(func: Calculation, /) -> Calculation: ...
@overload
def calculation(*, params: tuple[str, ...]) -> Callable[[Calculation], Calculation]: ...


def calculation(func: Calculation | None = None, /, *, params: tuple[str, ...] = ()
                ) -> Calculation | Callable[[Calculation], Calculation]:
    """Register a calculation; `params` names the parameters it reads."""

    def register(f: Calculation) -> Calculation:
        CALCULATIONS[f.__name__] = f
        CALCULATION_PARAMS[f.__name__] = tuple(params)
        return f

    return register if func is None else register(func)


def required_arguments(name: str) -> list[str]:
    """Variables a rule must bind to call calculation `name`."""
    sig = inspect.signature(CALCULATIONS[name])
    return [p for p in sig.parameters if p != "params"]


def _round(value: float) -> float:
    return round(value, 3)


@calculation
def expected_reservoir_volume(refill_ml: float, days: float, daily_ml: float) -> list[Derived]:
    """Expected volume now = refill volume - days since refill x daily volume (review 5.1).

    The pump's own estimate is what the review compares with; this is used only
    when the interrogation's expected volume was not entered. Never below zero.
    """
    expected = max(0.0, refill_ml - days * daily_ml)
    return [Derived("expected_volume", {"volume_ml": _round(expected), "source": "calculated"})]


def _threshold(capacity: float, params: Params) -> tuple[float, str]:
    by_size: dict[str, float] = params["consequential_discrepancy_ml"]
    key = f"{capacity:g}"
    if key in by_size:
        return float(by_size[key]), "review"
    # The review gives thresholds for 20 and 40 mL pumps only; for other sizes
    # use the smallest (most sensitive) one and say so (concept
    # discrepancy_threshold_extrapolated).
    return float(min(by_size.values())), "extrapolated"


@calculation(params=("consequential_discrepancy_ml",))
def reservoir_discrepancy(expected_ml: float, measured_ml: float, capacity_ml: float,
                          params: Params) -> list[Derived]:
    """Measured minus expected volume, classed against the review's thresholds (5.1)."""
    difference = measured_ml - expected_ml
    threshold, basis = _threshold(capacity_ml, params)
    if difference > threshold:
        direction = "higher"
    elif difference < -threshold:
        direction = "lower"
    else:
        direction = "none"
    return [Derived("volume_discrepancy", {
        "direction": direction,
        "difference_ml": _round(difference),
        "threshold_ml": threshold,
        "threshold_basis": basis,
        "consequential": direction != "none",
        "exceeds_capacity": measured_ml > capacity_ml,
    })]


@calculation
def aspirate_capacity_check(measured_ml: float, capacity_ml: float) -> list[Derived]:
    """Is more fluid aspirated than the reservoir can hold? (review 3.1: 30 mL from 18 mL)."""
    excess = max(0.0, measured_ml - capacity_ml)
    return [Derived("aspirate_capacity", {"exceeds_capacity": measured_ml > capacity_ml,
                                          "excess_ml": _round(excess)})]


@calculation(params=("prometra_catheter_full_length_cm", "prometra_catheter_ml_per_cm"))
def prometra_catheter_volume(trimmed_cm: float, params: Params) -> list[Derived]:
    """Prometra implanted catheter volume (clinician manual; beyond the review)."""
    full: float = params["prometra_catheter_full_length_cm"]
    per_cm: float = params["prometra_catheter_ml_per_cm"]
    volume = max(0.0, full - trimmed_cm) * per_cm
    return [Derived("catheter_volume", {"volume_ml": round(volume, 4),
                                        "source": "prometra_manual_formula"})]


@calculation
def dead_space_dose(dead_space_ml: float, concentration: float, agent: str) -> list[Derived]:
    """Drug mass in the catheter dead space: the bolus a contrast injection could push (7.5)."""
    return [Derived("dead_space_dose", {"agent": agent, "dead_space_ml": dead_space_ml,
                                        "dose_mg": round(dead_space_ml * concentration, 4)})]


def run(name: str, bindings: Mapping[str, Any], params: Params) -> list[Derived]:
    func = CALCULATIONS[name]
    kwargs = {k: bindings[k] for k in required_arguments(name)}
    if "params" in inspect.signature(func).parameters:
        kwargs["params"] = params
    return func(**kwargs)
