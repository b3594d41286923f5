"""Fact types the rules can match, with their fields and allowed values.

Input fact types are derived from the pydantic input models (so a rule can never
name a field that a case cannot carry); derived fact types are the ones rules
and calculations declare. One case section becomes one fact; list sections
(drugs, signs, logged alarms, imaging, exposures, trial levels) become one fact
per item.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel

from .catheter import CapAspiration, DiagnosticBolus
from .drugs import Agent
from .exposures import Exposure
from .imaging import Imaging
from .interrogation import AudibleAlarm, Interrogation, LoggedAlarm
from .labs import Labs
from .presentation import Presentation, Problem, Sign
from .pump import Pump
from .reservoir import Reservoir
from .trial import LevelFinding, Trial

FieldKind = Literal["number", "integer", "boolean", "text", "choice"]


@dataclass(frozen=True)
class FieldSpec:
    kind: FieldKind
    choices: tuple[str, ...] = ()
    # The value can be missing (a finding not entered: unknown, never "no").
    optional: bool = False

    def describe(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        return self.kind


@dataclass(frozen=True)
class FactType:
    name: str
    fields: dict[str, FieldSpec]
    origin: Literal["input", "derived"]
    doc: str
    case_path: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _spec_of(annotation: Any) -> FieldSpec | None:
    """FieldSpec of a scalar annotation; None for lists and nested models."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) != 1:
            return None
        spec = _spec_of(args[0])
        if spec is None or len(args) == len(typing.get_args(annotation)):
            return spec
        return FieldSpec(spec.kind, spec.choices, optional=True)
    if origin is list:
        return None
    if isinstance(annotation, type):
        if issubclass(annotation, Enum):
            return FieldSpec("choice", tuple(str(m.value) for m in annotation))
        if issubclass(annotation, bool):
            return FieldSpec("boolean")
        if issubclass(annotation, int):
            return FieldSpec("integer")
        if issubclass(annotation, float):
            return FieldSpec("number")
        if issubclass(annotation, (str, date)):
            return FieldSpec("text")
        if issubclass(annotation, BaseModel):
            return None
    return None


def _fields_of(model: type[BaseModel], skip: tuple[str, ...] = ()) -> dict[str, FieldSpec]:
    out: dict[str, FieldSpec] = {}
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        spec = _spec_of(info.annotation)
        if spec is not None:
            out[name] = spec
    return out


def _choice(enum: type[Enum]) -> FieldSpec:
    return FieldSpec("choice", tuple(str(m.value) for m in enum))


NUMBER = FieldSpec("number")
BOOLEAN = FieldSpec("boolean")
TEXT = FieldSpec("text")
OPTIONAL_NUMBER = FieldSpec("number", optional=True)


def build_fact_types(algorithms: tuple[str, ...], concept_ids: tuple[str, ...],
                     agent_classes: tuple[str, ...]) -> dict[str, FactType]:
    """All fact types, given the KB's algorithm ids, concept ids and drug classes."""
    t: list[FactType] = [
        FactType("pump", _fields_of(Pump), "input", "The implanted pump.", "pump"),
        FactType("drug", {
            "agent": _choice(Agent),
            "agent_class": FieldSpec("choice", agent_classes),
            # lipophilicity where the review states it (kb/drugs.yaml), else missing
            "lipophilic": FieldSpec("boolean", optional=True),
            "concentration_mg_per_ml": OPTIONAL_NUMBER,
            "daily_dose_mg_per_day": OPTIONAL_NUMBER,
            "daily_dose_mcg_per_day": OPTIONAL_NUMBER,
            "agents_in_pump": FieldSpec("integer"),
        }, "input", "One drug in the reservoir (class and lipophilicity from kb/drugs.yaml).",
            "drugs[]"),
        FactType("presentation", {"kind": _choice(Problem)}, "input",
                 "One presenting problem.", "presentation.problems[]"),
        FactType("sign", {
            "name": _choice(Sign),
            "overdose_sign": BOOLEAN,
            "withdrawal_sign": BOOLEAN,
            "spinal_withdrawal_feature": BOOLEAN,
            "classic_opioid_withdrawal_feature": BOOLEAN,
            "opioid_toxicity_sign": BOOLEAN,
        }, "input", "One sign, read for the drug classes in the pump (kb/signs.yaml: "
                    "overdose_sign / withdrawal_sign hold when the review's general reading "
                    "or the reading of a class in the pump says so).", "presentation.signs[]"),
        FactType("history", _fields_of(Presentation, skip=("problems", "signs")), "input",
                 "Timing and history of the presentation.", "presentation"),
        FactType("interrogation", _fields_of(Interrogation, skip=("alarms_logged",)), "input",
                 "Pump interrogation and event log.", "interrogation"),
        FactType("logged_alarm", {"kind": _choice(LoggedAlarm)}, "input",
                 "One alarm in the event log.", "interrogation.alarms_logged[]"),
        FactType("audible_alarm", _fields_of(AudibleAlarm), "input",
                 "The alarm as heard.", "audible_alarm"),
        FactType("reservoir", {**_fields_of(Reservoir), "days_since_refill": OPTIONAL_NUMBER},
                 "input",
                 "Reservoir data (days_since_refill is computed from the dates or hours).",
                 "reservoir"),
        FactType("cap_aspiration", _fields_of(CapAspiration), "input",
                 "Catheter access port aspiration.", "cap_aspiration"),
        FactType("diagnostic_bolus", _fields_of(DiagnosticBolus), "input",
                 "Pump-programmed diagnostic bolus.", "diagnostic_bolus"),
        FactType("imaging", _fields_of(Imaging), "input", "One imaging study.", "imaging[]"),
        FactType("exposure", _fields_of(Exposure), "input", "One external exposure.",
                 "exposures[]"),
        FactType("trial", _fields_of(Trial, skip=("levels",)), "input",
                 "Intrathecal trial planning.", "trial"),
        FactType("trial_level", _fields_of(LevelFinding), "input",
                 "Findings at one candidate interlaminar level.", "trial.levels[]"),
        FactType("labs", _fields_of(Labs), "input",
                 "Laboratory results as read by the clinician (3.3).", "labs"),
        # derived
        FactType("conclusion", {"id": FieldSpec("choice", concept_ids), "kind": TEXT},
                 "derived", "A conclusion from the concept catalog."),
        FactType("handover", {"algorithm": FieldSpec("choice", algorithms)}, "derived",
                 "One algorithm hands the case over to another."),
        FactType("expected_volume", {
            "volume_ml": NUMBER,
            "source": FieldSpec("choice", ("interrogation", "calculated",
                                           "dose_and_concentration")),
        }, "derived", "The reservoir volume expected now."),
        FactType("volume_discrepancy", {
            "direction": FieldSpec("choice", ("higher", "lower", "none")),
            "difference_ml": NUMBER,
            "threshold_ml": NUMBER,
            # any_size: the reservoir size is unknown and the class does not depend on it
            "threshold_basis": FieldSpec("choice", ("review", "extrapolated", "any_size")),
            "consequential": BOOLEAN,
            # missing when the reservoir size is unknown
            "exceeds_capacity": FieldSpec("boolean", optional=True),
        }, "derived", "Measured minus expected reservoir volume and its class."),
        FactType("alarm_threshold_check", {"at_or_below": BOOLEAN, "threshold_ml": NUMBER},
                 "derived", "A reservoir volume against the low-volume alarm threshold set "
                 "for this pump."),
        FactType("dead_space_dose", {
            "agent": _choice(Agent),
            "dead_space_ml": NUMBER,
            "dose_mg": NUMBER,
        }, "derived", "Drug mass held in the catheter dead space."),
        FactType("aspirate_capacity", {"exceeds_capacity": BOOLEAN, "excess_ml": NUMBER},
                 "derived", "Aspirated reservoir volume compared with the reservoir capacity."),
        FactType("catheter_volume", {"volume_ml": NUMBER, "source": TEXT}, "derived",
                 "Implanted catheter volume (dead space)."),
    ]
    return {ft.name: ft for ft in t}
