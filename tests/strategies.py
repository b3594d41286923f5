"""Hypothesis strategies for valid cases, derived from the pydantic models in kb/facts.

Every field of every model reachable from `Case` gets a strategy from its type and
its constraints (ge/gt/le/lt, min/max length), so a field added to kb/facts is
generated without touching this file. What the type cannot say is written down
here as *fix-ups*, one per cross-field validator:

- Pump: the manufacturer matches the model; the reservoir size is one the model has.
- Drug: a concentration and a daily dose in one unit each (mg or mcg), not both.
- Trial: each level once.
- Case: each agent once; a last refill date needs an assessment date on or after it;
  a pump or a trial; no CAP aspiration result for a pump recorded without a CAP.

Numbers are drawn from the whole allowed range, from small round values (the scale
of real reservoirs and doses) and from the knowledge base's own thresholds and
their neighbours (kb/parameters.yaml), so the edges of the rules are exercised.

Three kinds of case: `case_dicts()` anywhere in the vocabulary; `case_variants()`,
a bundled or scenario case with whole sections dropped or generated anew; and
`case_neighbours()`, a known case with one to three findings changed (the cases
one finding away from a rule's edge). `cases()` mixes the three.

A drawn case that a validator still rejects is discarded (`reject`);
test_properties.test_strategies_rarely_draw_invalid_cases fails when a new
validator makes that common (and names it), and
test_properties.test_strategies_cover_the_vocabulary checks that every enum value
of every field is generated.

Profiles (set HYPOTHESIS_PROFILE): `ci` (default, a few hundred cases per property
test), `long` (thousands; `HYPOTHESIS_PROFILE=long .venv/bin/pytest
tests/test_properties.py`), `dev` (a quick look).
"""

from __future__ import annotations

import functools
import math
import os
import random
import types
import typing
from collections.abc import Callable, Iterable
from datetime import date
from enum import Enum
from typing import Any

import annotated_types
import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from pumpdx.kb.facts import Case, Drug, Pump, Trial
from pumpdx.kb.facts.interrogation import LOGGED_ALARMS_OF, MANUFACTURERS_WITHOUT_MOTOR
from pumpdx.kb.facts.pump import MANUFACTURER_OF, RESERVOIR_SIZES_ML
from pumpdx.kb.loader import default_kb_dir

# -- profiles ---------------------------------------------------------------------
_COMMON: dict[str, Any] = {
    "deadline": None,  # timing is the benchmark's business, not the tests'
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("ci", max_examples=300, **_COMMON)
settings.register_profile("long", max_examples=5000, **_COMMON)
settings.register_profile("dev", max_examples=50, **_COMMON)

PROFILE_NAME = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if PROFILE_NAME not in ("ci", "long", "dev"):
    PROFILE_NAME = "ci"


_BIDI_MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def profile(**overrides: Any) -> settings:
    """Settings for a property test (a decorator): the profile plus `overrides`.

    Used per test rather than loaded globally, so other tests' settings are left alone.
    """
    return settings(settings.get_profile(PROFILE_NAME), **overrides)


PROFILE = profile()
#: How many generated cases the cross-process determinism test sends to each process.
CROSS_PROCESS_CASES = {"ci": 60, "long": 600, "dev": 20}[PROFILE_NAME]

# -- numbers ----------------------------------------------------------------------
_SMALL_NUMBERS_UP_TO = 60.0  # reservoirs are 18-40 mL; doses and concentrations small


def _kb_thresholds() -> tuple[float, ...]:
    """Every number in kb/parameters.yaml, with its neighbours on both sides."""
    text = (default_kb_dir() / "parameters.yaml").read_text(encoding="utf-8")
    values: set[float] = set()
    for param in (yaml.safe_load(text) or {}).get("parameters", {}).values():
        raw = param.get("value") if isinstance(param, dict) else None
        nums: Iterable[Any] = raw.values() if isinstance(raw, dict) else [raw]
        for v in nums:
            if isinstance(v, int | float) and not isinstance(v, bool):
                x = float(v)
                values.update({x, x - 0.5, x - 0.01, x + 0.01, x + 0.5, x / 2, 2 * x})
    return tuple(sorted(values))


THRESHOLDS = _kb_thresholds()


def _bounds(info: FieldInfo) -> tuple[float | None, float | None, bool, bool]:
    lo = hi = None
    lo_open = hi_open = False
    for m in info.metadata:
        if isinstance(m, annotated_types.Ge):
            lo = float(m.ge)  # type: ignore[arg-type]
        elif isinstance(m, annotated_types.Gt):
            lo, lo_open = float(m.gt), True  # type: ignore[arg-type]
        elif isinstance(m, annotated_types.Le):
            hi = float(m.le)  # type: ignore[arg-type]
        elif isinstance(m, annotated_types.Lt):
            hi, hi_open = float(m.lt), True  # type: ignore[arg-type]
    return lo, hi, lo_open, hi_open


def _lengths(info: FieldInfo) -> tuple[int, int | None]:
    lo, hi = 0, None
    for m in info.metadata:
        if isinstance(m, annotated_types.MinLen):
            lo = m.min_length
        elif isinstance(m, annotated_types.MaxLen):
            hi = m.max_length
    return lo, hi


def _inside(x: float, lo: float | None, hi: float | None, lo_open: bool, hi_open: bool) -> bool:
    if lo is not None and (x < lo or (lo_open and x == lo)):
        return False
    return not (hi is not None and (x > hi or (hi_open and x == hi)))


def floats_in(info: FieldInfo) -> st.SearchStrategy[float]:
    lo, hi, lo_open, hi_open = _bounds(info)
    lo_f = 0.0 if lo is None else lo
    hi_f = 1e6 if hi is None else hi
    top = min(hi_f, _SMALL_NUMBERS_UP_TO)
    tenths = st.integers(math.ceil(lo_f * 10), math.floor(top * 10)).map(lambda i: i / 10)
    near = [x for x in THRESHOLDS if _inside(x, lo, hi, lo_open, hi_open)]
    edges = [x for x in (lo_f, hi_f) if _inside(x, lo, hi, lo_open, hi_open)]
    anywhere = st.floats(min_value=lo_f, max_value=hi_f, exclude_min=lo_open,
                         exclude_max=hi_open, allow_nan=False, allow_infinity=False)
    options: list[st.SearchStrategy[float]] = [
        tenths.filter(lambda x: _inside(x, lo, hi, lo_open, hi_open))]
    if near:
        options.append(st.sampled_from(near))
    if edges:
        options.append(st.sampled_from(edges))
    options.append(anywhere)
    return st.one_of(options)


def ints_in(info: FieldInfo) -> st.SearchStrategy[int]:
    lo, hi, lo_open, hi_open = _bounds(info)
    lo_i = 0 if lo is None else math.floor(lo) + (1 if lo_open else 0)
    hi_i = 10**6 if hi is None else math.ceil(hi) - (1 if hi_open else 0)
    return st.one_of(st.integers(lo_i, min(hi_i, lo_i + 30)), st.integers(lo_i, hi_i))


# -- models -------------------------------------------------------------------------
Draw = Callable[[st.SearchStrategy[Any]], Any]
FixUp = Callable[[Draw, dict[str, Any]], dict[str, Any]]
_LIST_MAX = 4  # imaging studies, exposures, drugs, trial levels
_ENUM_LIST_MAX = 10  # signs, problems, logged alarms
_TEXT_MAX = 40


def _unwrap_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def value_strategy(annotation: Any, info: FieldInfo) -> st.SearchStrategy[Any]:
    """A strategy for one field's value (JSON-like: enums as their string values)."""
    ann = _unwrap_optional(annotation)
    if typing.get_origin(ann) is list:
        (item,) = typing.get_args(ann)
        lo, hi = _lengths(info)
        items = value_strategy(item, FieldInfo())
        if isinstance(item, type) and issubclass(item, Enum):
            # mostly distinct values (signs, problems); a repeat now and then
            cap = max(lo, min(hi or _ENUM_LIST_MAX, _ENUM_LIST_MAX))
            distinct = st.lists(items, min_size=lo, max_size=cap, unique=True)
            return st.one_of(distinct, st.lists(items, min_size=lo, max_size=3))
        return st.lists(items, min_size=lo, max_size=max(lo, min(hi or _LIST_MAX, _LIST_MAX)))
    if isinstance(ann, type):
        if issubclass(ann, Enum):
            return st.sampled_from([m.value for m in ann])
        if issubclass(ann, bool):
            return st.booleans()
        if issubclass(ann, int):
            return ints_in(info)
        if issubclass(ann, float):
            return floats_in(info)
        if issubclass(ann, date):
            return st.dates(date(1990, 1, 1), date(2060, 12, 31)).map(date.isoformat)
        if issubclass(ann, str):
            _lo, hi = _lengths(info)
            # printable text: control characters are refused in case text (they could
            # drive the terminal); tests/test_malformed.py covers them
            printable = st.characters(blacklist_categories=("Cc", "Cs"),
                                      blacklist_characters=_BIDI_MARKS)
            return st.text(printable, max_size=min(hi or _TEXT_MAX, _TEXT_MAX))
        if issubclass(ann, BaseModel):
            return model_dicts(ann)
    raise TypeError(f"no strategy for field type {annotation!r}: extend tests/strategies.py")


def _required(info: FieldInfo) -> bool:
    return info.is_required()


@functools.cache
def _fields(model: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for name, info in model.model_fields.items():
        strategy = value_strategy(info.annotation, info)
        (required if _required(info) else optional)[name] = strategy
    return st.fixed_dictionaries(required, optional=optional)


@st.composite
def _model_dict(draw: Draw, model: type[BaseModel]) -> dict[str, Any]:
    data: dict[str, Any] = dict(draw(_fields(model)))
    fix = FIX_UPS.get(model)
    return fix(draw, data) if fix is not None else data


def model_dicts(model: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    """JSON-like dicts for `model`: every field, optional ones sometimes left out."""
    return _model_dict(model)


# -- fix-ups: the cross-field validators ------------------------------------------------
def _fix_pump(draw: Draw, data: dict[str, Any]) -> dict[str, Any]:
    model = data.get("model")
    if model is None:
        return data
    if "manufacturer" in data:
        if draw(st.booleans()):
            data["manufacturer"] = MANUFACTURER_OF[model]
        else:
            del data["manufacturer"]
    sizes = RESERVOIR_SIZES_ML.get(model)
    if sizes and "reservoir_ml" in data:
        data["reservoir_ml"] = draw(st.sampled_from(sizes))
    return data


def _fix_drug(draw: Draw, data: dict[str, Any]) -> dict[str, Any]:
    for pair in (("concentration_mg_per_ml", "concentration_mcg_per_ml"),
                 ("daily_dose_mg_per_day", "daily_dose_mcg_per_day")):
        if all(k in data for k in pair):
            del data[pair[draw(st.integers(0, 1))]]
    return data


def _fix_case(draw: Draw, data: dict[str, Any]) -> dict[str, Any]:
    seen: set[str] = set()
    drugs = []
    for d in data.get("drugs", []):
        if d["agent"] not in seen:
            seen.add(d["agent"])
            drugs.append(d)
    if "drugs" in data:
        data["drugs"] = drugs
    refill = data.get("reservoir", {}).get("last_refill_date")
    if refill is not None:
        today = data.get("assessment_date")
        if today is None or today < refill:
            days = draw(st.integers(0, 400))
            data["assessment_date"] = date.fromordinal(
                min(date.fromisoformat(refill).toordinal() + days, date.max.toordinal())
            ).isoformat()
    if data.get("pump") is None and data.get("trial") is None:
        data["pump"] = draw(model_dicts(Pump))
    pump, cap = data.get("pump") or {}, data.get("cap_aspiration") or {}
    _fix_device_interrogation(pump, data.get("interrogation"))
    if pump.get("has_catheter_access_port") is False and cap.get("result") is not None:
        if draw(st.booleans()):
            pump["has_catheter_access_port"] = True
        else:
            del cap["result"]
    reservoir, size = data.get("reservoir") or {}, pump.get("reservoir_ml")
    expected = reservoir.get("expected_volume_ml")
    if size is not None and expected is not None and expected > size:
        reservoir["expected_volume_ml"] = size  # more than the reservoir holds is an error
    return data


def _fix_device_interrogation(pump: dict[str, Any], interrogation: dict[str, Any] | None
                              ) -> None:
    """Logged alarms of the pump's manufacturer only; no motor stall on a Prometra."""
    maker = pump.get("manufacturer") or MANUFACTURER_OF.get(pump.get("model") or "")
    if maker is None or interrogation is None:
        return
    allowed = {str(a) for a in LOGGED_ALARMS_OF[maker]}
    if "alarms_logged" in interrogation:
        interrogation["alarms_logged"] = [a for a in interrogation["alarms_logged"]
                                          if a in allowed]
    if maker in MANUFACTURERS_WITHOUT_MOTOR and interrogation.get("motor_stall") not in (
            None, "none"):
        del interrogation["motor_stall"]


def _fix_trial(draw: Draw, data: dict[str, Any]) -> dict[str, Any]:
    if "levels" in data:
        by_level = {level["level"]: level for level in reversed(data["levels"])}
        data["levels"] = [by_level[k] for k in dict.fromkeys(lv["level"] for lv in data["levels"])]
    return data


FIX_UPS: dict[type[BaseModel], FixUp] = {Pump: _fix_pump, Drug: _fix_drug, Trial: _fix_trial,
                                         Case: _fix_case}


@st.composite
def case_dicts(draw: Draw) -> dict[str, Any]:
    """Valid case data, as a case file would hold it (JSON types only)."""
    data: dict[str, Any] = draw(model_dicts(Case))
    try:
        Case.model_validate(data)
    except ValidationError:
        # A validator these fix-ups do not know; the filter health check fails if common.
        from hypothesis import reject

        reject()
    return data


# -- variants of known cases -----------------------------------------------------------
@functools.cache
def known_case_dicts() -> tuple[dict[str, Any], ...]:
    """The bundled cases and the scenario cases, as JSON-like dicts.

    Scenario files that do not load (someone is mid-edit) are skipped: they are
    only seeds here; the scenario tests report them.
    """
    from pumpdx.engine.inputs import InputError, load_case
    from pumpdx.engine.scenarios import load_scenario, scenario_paths

    root = default_kb_dir()
    out: list[dict[str, Any]] = []
    for path in sorted((root / "cases").glob("*.yaml")):
        try:
            out.append(load_case(str(path)).model_dump(mode="json", exclude_none=True))
        except InputError:
            continue
    for path in scenario_paths([root / "scenarios"]):
        try:
            out.append(load_scenario(path).case.model_dump(mode="json", exclude_none=True))
        except InputError:
            continue
    return tuple(out)


@st.composite
def case_variants(draw: Draw) -> dict[str, Any]:
    """A known case with some sections kept, some dropped and some generated anew.

    Random cases rarely reach the deep branches of the algorithms (a reservoir
    discrepancy in an opioid overdose after a refill ...); the case reports and
    scenarios do, and their neighbours are where a rule's edge is most likely wrong.
    """
    known = known_case_dicts()
    if not known:
        generated: dict[str, Any] = draw(case_dicts())
        return generated
    base = dict(draw(st.sampled_from(known)))
    fresh = draw(model_dicts(Case))
    for name in Case.model_fields:
        choice = draw(st.sampled_from(("keep", "keep", "keep", "drop", "replace")))
        if choice == "drop" and name != "presentation":
            base.pop(name, None)
        elif choice == "replace" and name in fresh:
            base[name] = fresh[name]
    data = _fix_case(draw, base)
    try:
        Case.model_validate(data)
    except ValidationError:
        from hypothesis import reject

        reject()
    return data


Slot = tuple[tuple[Any, ...], FieldInfo]


def _slots(data: dict[str, Any], model: type[BaseModel], path: tuple[Any, ...] = ()
           ) -> list[Slot]:
    """Every field that could be set in the sections present in `data`."""
    out: list[Slot] = []
    for name, info in model.model_fields.items():
        ann = _unwrap_optional(info.annotation)
        item = typing.get_args(ann)[0] if typing.get_origin(ann) is list else None
        if isinstance(item, type) and issubclass(item, BaseModel):
            for i, entry in enumerate(data.get(name) or []):
                out += _slots(entry, item, (*path, name, i))
        elif isinstance(ann, type) and issubclass(ann, BaseModel):
            if isinstance(data.get(name), dict):
                out += _slots(data[name], ann, (*path, name))
        else:
            out.append(((*path, name), info))
    return out


def _copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data


@st.composite
def case_neighbours(draw: Draw, seeds: tuple[dict[str, Any], ...] | None = None,
                    max_changes: int = 3, sections: tuple[str, ...] = ()) -> dict[str, Any]:
    """A known case (or one of `seeds`) with one to `max_changes` findings changed.

    Each change sets one field of a section the case has (of `sections` only, if
    given) to another valid value, or leaves it out: the cases one finding away
    from a rule's edge.
    """
    pool = seeds if seeds is not None else known_case_dicts()
    if not pool:
        generated: dict[str, Any] = draw(case_dicts())
        return generated
    data = _copy(draw(st.sampled_from(pool)))
    for _ in range(draw(st.integers(1, max_changes))):
        slots = [s for s in _slots(data, Case) if not sections or s[0][0] in sections]
        if not slots:
            break
        path, info = draw(st.sampled_from(slots))
        target = data
        for part in path[:-1]:
            target = target[part]
        if not info.is_required() and draw(st.integers(0, 4)) == 0:
            target.pop(path[-1], None)
        else:
            target[path[-1]] = draw(value_strategy(info.annotation, info))
    data = _fix_case(draw, data)
    try:
        Case.model_validate(data)
    except ValidationError:
        from hypothesis import reject

        reject()
    return data


def any_case_dicts() -> st.SearchStrategy[dict[str, Any]]:
    """Generated cases, variants of the known ones and their close neighbours."""
    return st.one_of(case_dicts(), case_variants(), case_neighbours())


def cases() -> st.SearchStrategy[Case]:
    """Valid `Case` objects across the whole vocabulary and near the known cases."""
    return any_case_dicts().map(Case.model_validate)


def enum_fields(model: type[BaseModel] = Case, prefix: str = ""
                ) -> dict[str, tuple[str, ...]]:
    """Every enum-valued field reachable from `model` ('drugs[].agent' -> values)."""
    out: dict[str, tuple[str, ...]] = {}
    for name, info in model.model_fields.items():
        ann = _unwrap_optional(info.annotation)
        path = f"{prefix}{name}"
        if typing.get_origin(ann) is list:
            ann = typing.get_args(ann)[0]
            path += "[]"
        if isinstance(ann, type) and issubclass(ann, Enum):
            out[path] = tuple(str(m.value) for m in ann)
        elif isinstance(ann, type) and issubclass(ann, BaseModel):
            out.update(enum_fields(ann, path + "."))
    return out


def enum_values_in(data: Any, path: str) -> list[str]:
    """The values at an enum_fields() path in case data."""
    head, _, rest = path.partition(".")
    key = head.removesuffix("[]")
    if not isinstance(data, dict) or key not in data:
        return []
    value = data[key]
    items = value if head.endswith("[]") else [value]
    if not rest:
        return [str(v) for v in items]
    return [v for item in items for v in enum_values_in(item, rest)]


# -- fast seeded variants for the 10,000-case safety run ---------------------------------
CLINICAL_PROBLEMS = ("overdose", "withdrawal", "overdose", "withdrawal", "loss_of_therapy",
                     "new_neurological_deficit", "catheter_tip_mass_suspected", "alarm",
                     "routine_refill", "mri_done")
RESERVOIR_ML = (0.0, 0.5, 1.0, 2.0, 2.01, 3.0, 4.0, 7.3, 8.3, 10.0)


def _maybe(rng: random.Random, values: tuple[Any, ...]) -> Any:
    return rng.choice((None, *values))


def _clinical_variant(rng: random.Random, base: dict[str, Any]) -> dict[str, Any]:
    """A known case with the findings the overdose, withdrawal and mass rules read redrawn:
    problems, signs, drugs, reservoir state, imaging, CAP concerns and the bolus."""
    from pumpdx.kb.facts.drugs import Agent
    from pumpdx.kb.facts.imaging import ImagingFinding, Modality
    from pumpdx.kb.facts.presentation import Sign

    data: dict[str, Any] = _copy(base)
    pres = data["presentation"]
    if rng.random() < 0.8:
        pres["problems"] = sorted(set(rng.sample(CLINICAL_PROBLEMS, rng.randint(1, 2))))
    if rng.random() < 0.8:
        pres["signs"] = rng.sample([s.value for s in Sign], rng.randint(0, 4))
    if rng.random() < 0.6:
        pres.pop("onset_hours_after_refill", None)
        data["drugs"] = [{"agent": a} for a in rng.sample([a.value for a in Agent],
                                                          rng.choice((0, 1, 1, 2, 3)))]
    if rng.random() < 0.6:
        interrogation = data.setdefault("interrogation", {})
        interrogation["calculated_reservoir_ml"] = _maybe(rng, RESERVOIR_ML)
        interrogation["motor_stall"] = _maybe(rng, ("none", "none", "temporary", "permanent"))
        interrogation["programming_error"] = _maybe(rng, (False, True))
        interrogation["end_of_service"] = _maybe(rng, (False, False, True))
        interrogation["alarms_logged"] = rng.sample(["critical", "non_critical"],
                                                    rng.randint(0, 1))
    if rng.random() < 0.4:
        reservoir = data.setdefault("reservoir", {})
        reservoir["measured_volume_ml"] = _maybe(rng, RESERVOIR_ML)
        reservoir["refill_possible"] = _maybe(rng, (True, True, False))
    if rng.random() < 0.3:
        data["imaging"] = [{"modality": rng.choice([m.value for m in Modality]),
                            "finding": rng.choice([f.value for f in ImagingFinding])}
                           for _ in range(rng.randint(0, 2))]
    if rng.random() < 0.2:
        cap = data.setdefault("cap_aspiration", {})
        cap["granuloma_concern"] = _maybe(rng, (False, True))
        cap["recent_mri_excluded_granuloma"] = _maybe(rng, (False, True))
    if rng.random() < 0.3:
        data["diagnostic_bolus"] = {
            "noticeable_response_expected": _maybe(rng, (True, False)),
            "response": _maybe(rng, ("appropriate", "none"))}
    return {k: v for k, v in data.items() if v is not None}


def clinical_variants(count: int, seed: int = 9) -> list[dict[str, Any]]:
    """`count` valid cases, the same ones every run: known cases (bundled and scenario)
    with the findings of the overdose, withdrawal and mass rules redrawn at random.

    Plain seeded `random`, not Hypothesis: fast enough to run 10,000 cases through the
    safety properties in one test. Drawn cases that a validator rejects are redrawn.
    """
    rng = random.Random(seed)
    known = known_case_dicts()
    out: list[dict[str, Any]] = []
    while len(out) < count:
        data = _clinical_variant(rng, rng.choice(known))
        try:
            Case.model_validate(data)
        except ValidationError:
            continue
        out.append(data)
    return out
