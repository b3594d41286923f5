"""Calculations that rules call with `compute: NAME`.

Each takes keyword arguments named after variables that the calling rule binds
(`$refill_ml` binds `refill_ml`), plus `params` (the KB parameters) when it asks
for it, and returns the derived facts to declare. The numbers they use come from
kb/parameters.yaml, never from literals here. The loader checks that the rule
binds every argument a calculation needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .quantity import Number, exact, to_float

Params = Mapping[str, Any]


@dataclass(frozen=True)
class Derived:
    """One fact a calculation declares (its type must be one the calculation declares)."""

    fact: str
    fields: dict[str, Any]


Calculation = Callable[..., list[Derived]]


@dataclass(frozen=True)
class CalculationSpec:
    """A calculation and what it reads and declares, as written at its definition.

    `arguments` are the variables a calling rule must bind (the function's parameters
    other than `params`); `params` the kb/parameters.yaml entries it reads; `declares`
    the fact types of the facts it returns. The engine holds a calculation to them: it
    receives only the parameters it declares, and a fact of a type it does not declare
    is an error (CalculationError).
    """

    name: str
    function: Calculation
    arguments: tuple[str, ...]
    params: tuple[str, ...]
    declares: tuple[str, ...]
    wants_params: bool

    @property
    def file(self) -> str:
        return self.function.__code__.co_filename

    @property
    def line(self) -> int:
        return self.function.__code__.co_firstlineno


class CalculationError(RuntimeError):
    """A calculation broke what it declares (a parameter or fact type it did not name)."""


CALCULATIONS: dict[str, CalculationSpec] = {}


def calculation(*, declares: tuple[str, ...], params: tuple[str, ...] = ()
                ) -> Callable[[Calculation], Calculation]:
    """Register a calculation: `declares` names the fact types it returns, `params` the
    parameters it reads."""

    def register(f: Calculation) -> Calculation:
        CALCULATIONS[f.__name__] = spec_of(f, declares=declares, params=params)
        return f

    return register


def spec_of(f: Calculation, *, declares: tuple[str, ...], params: tuple[str, ...] = ()
            ) -> CalculationSpec:
    """The CalculationSpec of a function (its arguments read from its code object)."""
    code = f.__code__
    names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    return CalculationSpec(f.__name__, f, tuple(n for n in names if n != "params"),
                           tuple(params), tuple(declares), "params" in names)


def required_arguments(name: str) -> list[str]:
    """Variables a rule must bind to call calculation `name`."""
    return list(CALCULATIONS[name].arguments)


class _DeclaredParams(Mapping[str, Any]):
    """The parameters a calculation declares; reading another one is an error."""

    def __init__(self, name: str, params: Params, declared: tuple[str, ...]) -> None:
        self._name = name
        self._values = {p: params[p] for p in declared if p in params}
        self._declared = declared

    def __getitem__(self, key: str) -> Any:
        if key not in self._declared:
            raise CalculationError(
                f"calculation '{self._name}' reads parameter '{key}' but does not declare "
                f"it: write @calculation(params=(..., {key!r}))")
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


# Every volume below is decimal arithmetic on the entered values (kb/quantity.py): 8.3 mL
# expected and 7.3 mL aspirated differ by exactly 1.0 mL, which is not "> 1 mL".


def _expected(refill_ml: Number, days: Number, daily_ml: Number, source: str
              ) -> list[Derived]:
    expected = max(Decimal(0), exact(refill_ml) - exact(days) * exact(daily_ml))
    return [Derived("expected_volume", {"volume_ml": to_float(expected), "source": source})]


@calculation(declares=("expected_volume",))
def expected_reservoir_volume(refill_ml: float, days: float, daily_ml: float) -> list[Derived]:
    """Expected volume now = refill volume - days since refill x daily volume (review 5.1).

    The pump's own estimate is what the review compares with; this is used only
    when the interrogation's expected volume was not entered. Never below zero.
    """
    return _expected(refill_ml, days, daily_ml, "calculated")


@calculation(declares=("expected_volume",))
def expected_volume_from_daily_dose(refill_ml: float, days: float, daily_dose_mg: float,
                                    concentration_mg_per_ml: float) -> list[Derived]:
    """As expected_reservoir_volume, with the daily volume = daily dose / concentration.

    The review gives no formula: mg/day divided by mg/mL is mL/day, simple arithmetic on
    two schema fields (the programmed dose and the concentration, review 2). A rule uses
    it only for a single-drug pump without an entered daily volume.
    """
    daily_ml = exact(daily_dose_mg) / exact(concentration_mg_per_ml)
    return _expected(refill_ml, days, daily_ml, "dose_and_concentration")


@calculation(declares=("expected_volume",))
def expected_volume_from_daily_dose_mcg(refill_ml: float, days: float, daily_dose_mcg: float,
                                        concentration_mg_per_ml: float) -> list[Derived]:
    """expected_volume_from_daily_dose with the daily dose in mcg/day (1 mg = 1000 mcg)."""
    daily_ml = exact(daily_dose_mcg) / 1000 / exact(concentration_mg_per_ml)
    return _expected(refill_ml, days, daily_ml, "dose_and_concentration")


def _thresholds(params: Params) -> dict[str, Decimal]:
    by_size: dict[str, float] = params["consequential_discrepancy_ml"]
    return {size: exact(value) for size, value in by_size.items()}


def _threshold(capacity: float, params: Params) -> tuple[Decimal, str]:
    by_size = _thresholds(params)
    key = f"{capacity:g}"
    if key in by_size:
        return by_size[key], "review"
    # The review gives thresholds for 20 and 40 mL pumps only; for other sizes
    # use the smallest (most sensitive) one and say so (concept
    # discrepancy_threshold_extrapolated).
    return min(by_size.values()), "extrapolated"


def _direction(difference: Decimal, threshold: Decimal) -> str:
    if difference > threshold:
        return "higher"
    if difference < -threshold:
        return "lower"
    return "none"


def _discrepancy(difference: Decimal, threshold: Decimal, basis: str,
                 exceeds_capacity: bool | None) -> Derived:
    direction = _direction(difference, threshold)
    return Derived("volume_discrepancy", {
        "direction": direction,
        "difference_ml": to_float(difference),
        "threshold_ml": float(threshold),
        "threshold_basis": basis,
        "consequential": direction != "none",
        "exceeds_capacity": exceeds_capacity,
    })


@calculation(declares=("volume_discrepancy",), params=("consequential_discrepancy_ml",))
def reservoir_discrepancy(expected_ml: float, measured_ml: float, capacity_ml: float,
                          params: Params) -> list[Derived]:
    """Measured minus expected volume, classed against the review's thresholds (5.1)."""
    difference = exact(measured_ml) - exact(expected_ml)
    threshold, basis = _threshold(capacity_ml, params)
    return [_discrepancy(difference, threshold, basis, exact(measured_ml) > exact(capacity_ml))]


@calculation(declares=("volume_discrepancy",), params=("consequential_discrepancy_ml",))
def reservoir_discrepancy_any_size(expected_ml: float, measured_ml: float, params: Params
                                   ) -> list[Derived]:
    """The discrepancy class when the reservoir size is unknown, if it does not depend on it.

    Every size has the 1 mL or the 2 mL threshold (5.1; other sizes use the smallest).
    A difference within the smallest is no discrepancy, one beyond the largest is
    consequential, whatever the size; in between the answer depends on the size, and
    nothing is declared (the capacity is asked for). Whether the aspirate exceeds the
    capacity is unknown.
    """
    difference = exact(measured_ml) - exact(expected_ml)
    thresholds = _thresholds(params).values()
    low, high = min(thresholds), max(thresholds)
    if abs(difference) <= low:
        return [_discrepancy(difference, low, "any_size", None)]
    if abs(difference) > high:
        return [_discrepancy(difference, high, "any_size", None)]
    return []


@calculation(declares=("aspirate_capacity",))
def aspirate_capacity_check(measured_ml: float, capacity_ml: float) -> list[Derived]:
    """Is more fluid aspirated than the reservoir can hold? (review 3.1: 30 mL from 18 mL)."""
    excess = max(Decimal(0), exact(measured_ml) - exact(capacity_ml))
    return [Derived("aspirate_capacity", {"exceeds_capacity": excess > 0,
                                          "excess_ml": to_float(excess)})]


@calculation(declares=("alarm_threshold_check",))
def alarm_threshold_check(volume_ml: float, threshold_ml: float) -> list[Derived]:
    """Is the reservoir volume at or below the alarm threshold the clinician set (2.1)?"""
    return [Derived("alarm_threshold_check", {
        "at_or_below": exact(volume_ml) <= exact(threshold_ml),
        "threshold_ml": threshold_ml})]


@calculation(declares=("catheter_volume",),
             params=("prometra_catheter_full_length_cm", "prometra_catheter_ml_per_cm"))
def prometra_catheter_volume(trimmed_cm: float, params: Params) -> list[Derived]:
    """Prometra implanted catheter volume (clinician manual; beyond the review)."""
    full: float = params["prometra_catheter_full_length_cm"]
    per_cm: float = params["prometra_catheter_ml_per_cm"]
    volume = max(0.0, full - trimmed_cm) * per_cm
    return [Derived("catheter_volume", {"volume_ml": round(volume, 4),
                                        "source": "prometra_manual_formula"})]


@calculation(declares=("dead_space_dose",))
def dead_space_dose(dead_space_ml: float, concentration: float, agent: str) -> list[Derived]:
    """Drug mass in the catheter dead space: the bolus a contrast injection could push (7.5)."""
    return [Derived("dead_space_dose", {"agent": agent, "dead_space_ml": dead_space_ml,
                                        "dose_mg": round(dead_space_ml * concentration, 4)})]


def run(name: str, bindings: Mapping[str, Any], params: Params) -> list[Derived]:
    """Run calculation `name` on a rule's bindings, held to what it declares."""
    spec = CALCULATIONS[name]
    kwargs: dict[str, Any] = {k: bindings[k] for k in spec.arguments}
    if spec.wants_params:
        kwargs["params"] = _DeclaredParams(name, params, spec.params)
    out = spec.function(**kwargs)
    for derived in out:
        if derived.fact not in spec.declares:
            raise CalculationError(
                f"calculation '{name}' returned a '{derived.fact}' fact but declares only "
                + ", ".join(spec.declares))
    return out
