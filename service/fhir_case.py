"""FHIR R4 resources -> a Case, through the knowledge base's mapping table.

Resources are validated with fhir.resources (its R4B models: the R4-compatible release
of the package; these five resources read the same in R4 and R4B). Only what the table
maps is used; every resource that is not used is listed with the reason. Nothing is
guessed: two different values for one finding stop the mapping and say so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.device import Device
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.medicationstatement import MedicationStatement
from fhir.resources.R4B.observation import Observation
from pydantic import BaseModel, ValidationError

from pumpdx.kb.facts import Case
from pumpdx.kb.fhir_mapping import FhirMapping, FindingCode, field_kind

RESOURCE_MODELS: dict[str, type[BaseModel]] = {
    "Device": Device, "MedicationRequest": MedicationRequest,
    "MedicationStatement": MedicationStatement, "Observation": Observation,
    "Condition": Condition,
}
# Statuses under which a resource describes the patient now.
_DEVICE_OK = {None, "active"}
_MEDICATION_OK = {"active"}
_OBSERVATION_OK = {"registered", "preliminary", "final", "amended", "corrected"}
_CONDITION_CLINICAL_OK = {None, "active", "recurrence", "relapse"}
_CONDITION_VERIFICATION_BAD = {"refuted", "entered-in-error"}


class FhirInputError(ValueError):
    """A prefetch item or fetched resource is not valid FHIR (names the place)."""


@dataclass
class FhirResources:
    """Validated resources of one call, by type, each with where it came from."""

    items: list[tuple[str, Any]] = field(default_factory=list)  # (place, resource)

    def of(self, *types: str) -> list[tuple[str, Any]]:
        return [(p, r) for p, r in self.items if r.get_resource_type() in types]


@dataclass
class FhirCase:
    """The case built from FHIR (None when one could not be built) and the account of it."""

    case: Case | None
    used: list[str]
    ignored: list[str]
    problems: list[str]


def _ref(resource: Any) -> str:
    return f"{resource.get_resource_type()}/{resource.id or '(no id)'}"


def parse_resources(place: str, data: Any, patient_id: str | None) -> FhirResources:
    """Validate a prefetch item (a searchset Bundle or one resource) or a fetched page.

    Raises FhirInputError naming the place. Resources for another patient than the
    context's are refused; resource types PumpDx does not read are skipped."""
    out = FhirResources()
    if data is None:
        return out
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        raise FhirInputError(f"{place}: expected a FHIR resource or Bundle (an object with "
                             f"resourceType)")
    kind = data["resourceType"]
    if kind == "Bundle":
        try:
            bundle = Bundle.model_validate(data)
        except ValidationError as exc:
            raise FhirInputError(f"{place}: {_first_error(exc)}") from None
        for i, entry in enumerate(bundle.entry or []):
            res = entry.resource
            if res is None or res.get_resource_type() not in RESOURCE_MODELS:
                continue
            out.items.append((f"{place}.entry[{i}]", res))
    elif kind in RESOURCE_MODELS:
        try:
            out.items.append((place, RESOURCE_MODELS[kind].model_validate(data)))
        except ValidationError as exc:
            raise FhirInputError(f"{place}: {_first_error(exc)}") from None
    else:
        raise FhirInputError(f"{place}: resourceType '{kind[:60]}' is not read here; allowed: "
                             "Bundle, " + ", ".join(RESOURCE_MODELS))
    if patient_id is not None:
        for where, res in out.items:
            subject = res.patient if res.get_resource_type() == "Device" else res.subject
            ref = getattr(subject, "reference", None)
            if ref is not None and ref.split("/")[-2:] != ["Patient", patient_id]:
                raise FhirInputError(f"{where}: {_ref(res)} is for {ref[:100]}, not for the "
                                     f"context patient Patient/{patient_id}")
    return out


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    return f"not valid FHIR R4: {loc}: {err['msg']}" if loc else f"not valid FHIR R4: {err['msg']}"


def _codings(concept: Any) -> list[tuple[str, str]]:
    if concept is None:
        return []
    return [(c.system or "", c.code or "") for c in (concept.coding or [])]


def _code(concept: Any) -> str | None:
    codes = [c for _, c in _codings(concept)]
    return codes[0] if codes else None


class _Builder:
    def __init__(self, mapping: FhirMapping) -> None:
        self.mapping = mapping
        self.values: dict[str, tuple[Any, str]] = {}
        self.problems_seen: list[str] = []
        self.signs: list[str] = []
        self.agents: list[str] = []
        self.pump: dict[str, Any] = {}
        self.used: list[str] = []
        self.ignored: list[str] = []
        self.problems: list[str] = []

    def _set(self, key: str, value: Any, ref: str) -> None:
        if key in self.values and self.values[key][0] != value:
            old, where = self.values[key]
            self.problems.append(f"two different values for {key}: {old} ({where}) and "
                                 f"{value} ({ref}); record one")
            return
        self.values[key] = (value, ref)

    @staticmethod
    def _row(rows: Iterable[Any], concept: Any) -> Any:
        index = {(r.system, r.code): r for r in rows}
        for coding in _codings(concept):
            if coding in index:
                return index[coding]
        return None

    def device(self, ref: str, res: Any) -> None:
        if res.status not in _DEVICE_OK:
            self.ignored.append(f"{ref}: status {res.status}")
            return
        row = self._row(self.mapping.devices, res.type)
        if row is None:
            self.ignored.append(f"{ref}: type not in the mapping table")
            return
        for name in ("model", "manufacturer"):
            value = getattr(row, name)
            if value is not None:
                self._set(f"pump.{name}", str(value), ref)
        self.used.append(f"{ref}: pump {row.model or row.manufacturer}")

    def medication(self, ref: str, res: Any, dosages: list[Any]) -> None:
        if res.status not in _MEDICATION_OK:
            self.ignored.append(f"{ref}: status {res.status}")
            return
        if res.medicationCodeableConcept is None:
            self.ignored.append(f"{ref}: medicationReference is not followed; give "
                                f"medicationCodeableConcept")
            return
        row = self._row(self.mapping.medications, res.medicationCodeableConcept)
        if row is None:
            self.ignored.append(f"{ref}: medication not in the mapping table")
            return
        routes = {(r.system, r.code) for r in self.mapping.intrathecal_routes}
        if not any(c in routes for d in dosages for c in _codings(d.route)):
            self.ignored.append(f"{ref}: {row.agent} without an intrathecal route")
            return
        if str(row.agent) not in self.agents:
            self.agents.append(str(row.agent))
        self.used.append(f"{ref}: intrathecal {row.agent}")

    def finding(self, ref: str, row: FindingCode, value: Any) -> None:
        """A problem or sign row (present unless the value is false) or a field row."""
        if row.field is None:
            if value is False:
                self.ignored.append(f"{ref}: {row.problem or row.sign} recorded as absent "
                                    f"(absence is not an input; left unknown)")
                return
            if row.problem is not None and str(row.problem) not in self.problems_seen:
                self.problems_seen.append(str(row.problem))
            if row.sign is not None and str(row.sign) not in self.signs:
                self.signs.append(str(row.sign))
            self.used.append(f"{ref}: {'problem' if row.problem else 'sign'} "
                             f"{row.problem or row.sign}")
            return
        self._set(row.field, value, ref)
        self.used.append(f"{ref}: {row.field} = {value}" + (f" {row.unit}" if row.unit else ""))

    def condition(self, ref: str, res: Any) -> None:
        clinical = _code(res.clinicalStatus)
        verification = _code(res.verificationStatus)
        if clinical not in _CONDITION_CLINICAL_OK or verification in _CONDITION_VERIFICATION_BAD:
            self.ignored.append(f"{ref}: clinical status {clinical}, verification {verification}")
            return
        row = self._row(self.mapping.conditions, res.code)
        if row is None:
            self.ignored.append(f"{ref}: code not in the mapping table")
            return
        self.finding(ref, row, True)

    def observation(self, ref: str, res: Any) -> None:
        if res.status not in _OBSERVATION_OK:
            self.ignored.append(f"{ref}: status {res.status}")
            return
        row = self._row(self.mapping.observations, res.code)
        if row is None:
            self.ignored.append(f"{ref}: code not in the mapping table")
            return
        if res.dataAbsentReason is not None:
            self.ignored.append(f"{ref}: data absent ({_code(res.dataAbsentReason)})")
            return
        value, problem = self._observation_value(row, res)
        if problem:
            self.problems.append(f"{ref}: {problem}")
            return
        self.finding(ref, row, value)

    def _observation_value(self, row: FindingCode, res: Any) -> tuple[Any, str | None]:
        if row.field is None:
            if res.valueBoolean is not None:
                return bool(res.valueBoolean), None
            return True, None
        kind = field_kind(row.field)
        if kind in ("number", "integer"):
            q = res.valueQuantity
            if q is not None:
                unit = q.code or q.unit
                if unit != row.unit:
                    return None, (f"{row.field} must be in {row.unit}, the observation says "
                                  f"{unit}")
                raw = q.value
            elif res.valueInteger is not None and kind == "integer":
                raw = res.valueInteger
            else:
                return None, f"{row.field} needs a valueQuantity in {row.unit}"
            if raw is None:
                return None, f"{row.field}: the quantity has no value"
            return (int(raw) if kind == "integer" else float(raw)), None
        if kind == "boolean":
            if res.valueBoolean is None:
                return None, f"{row.field} needs valueBoolean"
            return bool(res.valueBoolean), None
        text = res.valueString
        if text is None and res.valueCodeableConcept is not None:
            text = next((c for s, c in _codings(res.valueCodeableConcept)
                         if s == self.mapping.code_system), None)
        if text is None:
            return None, (f"{row.field} needs valueString or valueCodeableConcept in "
                          f"{self.mapping.code_system}")
        return str(text), None

    def case_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for key, (value, _) in sorted(self.values.items()):
            section, _, name = key.partition(".")
            data.setdefault(section, {})[name] = value
        data.setdefault("presentation", {})
        data["presentation"]["problems"] = self.problems_seen
        if self.signs:
            data["presentation"]["signs"] = self.signs
        if self.agents:
            data["drugs"] = [{"agent": a} for a in self.agents]
        return data


def build_case(resources: FhirResources, mapping: FhirMapping) -> FhirCase:
    """Map the validated resources to a Case through the table."""
    b = _Builder(mapping)
    for ref_place, res in resources.items:
        ref = f"{_ref(res)} ({ref_place})"
        kind = res.get_resource_type()
        if kind == "Device":
            b.device(ref, res)
        elif kind == "MedicationRequest":
            b.medication(ref, res, list(res.dosageInstruction or []))
        elif kind == "MedicationStatement":
            b.medication(ref, res, list(res.dosage or []))
        elif kind == "Condition":
            b.condition(ref, res)
        elif kind == "Observation":
            b.observation(ref, res)
    if b.problems:
        return FhirCase(None, b.used, b.ignored, b.problems)
    if not b.problems_seen:
        return FhirCase(None, b.used, b.ignored, [
            "no presenting problem in the record: record a Condition or Observation coded "
            "with a problem of the mapping table (e.g. problem-withdrawal)"])
    if not any(key.startswith("pump.") for key in b.values):
        return FhirCase(None, b.used, b.ignored, [
            "no implanted pump in the record: record a Device typed with a pump of the "
            "mapping table (e.g. pump-synchromed-ii)"])
    try:
        case = Case.model_validate(b.case_data())
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or 'case'}: {e['msg']}"
                    for e in exc.errors()]
        return FhirCase(None, b.used, b.ignored, problems)
    return FhirCase(case, b.used, b.ignored, [])
