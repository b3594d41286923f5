"""The FHIR mapping table (kb/fhir_mapping.yaml): which code in which system means which
finding. A site edits the YAML, not Python; it is loaded and validated like the other
knowledge-base files (file:line: message for every problem, KBLoadError)."""

from __future__ import annotations

import types
import typing
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .facts import Agent, Case, Manufacturer, Problem, PumpModel, Sign
from .issues import KBIssue, KBLoadError, display_path
from .yamlfile import read_yaml

MAPPING_FILE = "fhir_mapping.yaml"


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    system: str = Field(min_length=1, max_length=500)
    code: str = Field(min_length=1, max_length=200)


class RouteCode(_Row):
    """A dosage route coding that means intrathecal delivery."""


class DeviceCode(_Row):
    """A Device.type coding that identifies the implanted pump."""

    model: PumpModel | None = None
    manufacturer: Manufacturer | None = None

    @model_validator(mode="after")
    def _says_something(self) -> DeviceCode:
        if self.model is None and self.manufacturer is None:
            raise ValueError("a device row needs model or manufacturer")
        return self


class MedicationCode(_Row):
    """A medication coding (MedicationRequest/MedicationStatement) naming an agent."""

    agent: Agent


class FindingCode(_Row):
    """A Condition.code or Observation.code coding: a problem, a sign, or (observations
    only) the value of one field of the case, e.g. reservoir.measured_volume_ml."""

    problem: Problem | None = None
    sign: Sign | None = None
    field: str | None = Field(None, pattern=r"^[a-z_]+\.[a-z0-9_]+$")
    unit: str | None = Field(None, max_length=50,
                             description="The unit a valueQuantity must carry (code or unit).")

    @model_validator(mode="after")
    def _one_meaning(self) -> FindingCode:
        given = [n for n in ("problem", "sign", "field") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of problem, sign or field")
        if self.field is not None:
            kind = field_kind(self.field)
            if kind is None:
                raise ValueError(f"field '{self.field}' is not a single value of the case "
                                 f"(section.field, e.g. reservoir.measured_volume_ml)")
            if kind == "number" and not self.unit:
                raise ValueError(f"field '{self.field}' is a number: give its unit")
            if kind != "number" and self.unit:
                raise ValueError(f"field '{self.field}' is not a number: no unit")
        elif self.unit:
            raise ValueError("unit is only for field rows")
        return self


class FhirMapping(BaseModel):
    """The whole table. `code_system` is PumpDx's own code system."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code_system: str = Field(min_length=1)
    intrathecal_routes: list[RouteCode] = Field(min_length=1)
    devices: list[DeviceCode] = Field(default_factory=list)
    medications: list[MedicationCode] = Field(default_factory=list)
    conditions: list[FindingCode] = Field(default_factory=list)
    observations: list[FindingCode] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> FhirMapping:
        for name in ("intrathecal_routes", "devices", "medications", "conditions",
                     "observations"):
            seen: set[tuple[str, str]] = set()
            for row in getattr(self, name):
                key = (row.system, row.code)
                if key in seen:
                    raise ValueError(f"{name}: {row.system}|{row.code} is mapped twice")
                seen.add(key)
        for row in self.conditions:
            if row.field is not None:
                raise ValueError(f"conditions: {row.code}: a condition maps to a problem or "
                                 f"a sign, not a field")
        return self

    def systems(self, table: str) -> list[str]:
        """The code systems used in one table, in first-use order."""
        return list(dict.fromkeys(r.system for r in getattr(self, table)))


FieldKind = Literal["number", "integer", "boolean", "enum", "text"]


def _inner(annotation: Any) -> Any:
    """X from X | None."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else None
    return annotation


def field_model(section: str) -> type[BaseModel] | None:
    """The model of a single-object section of a Case (pump, reservoir, ...)."""
    info = Case.model_fields.get(section)
    if info is None:
        return None
    inner = _inner(info.annotation)
    return inner if isinstance(inner, type) and issubclass(inner, BaseModel) else None


def field_kind(path: str) -> FieldKind | None:
    """What kind of value section.field holds, or None when it is not a single value."""
    section, _, name = path.partition(".")
    model = field_model(section)
    if model is None or name not in model.model_fields:
        return None
    inner = _inner(model.model_fields[name].annotation)
    if inner is bool:
        return "boolean"
    if inner is int:
        return "integer"
    if inner is float:
        return "number"
    if isinstance(inner, type) and issubclass(inner, Enum):
        return "enum"
    if inner is str:
        return "text"
    return None


def load_fhir_mapping(root: Path) -> FhirMapping:
    """Load and validate kb/fhir_mapping.yaml; KBLoadError names file:line for each problem."""
    path = root / MAPPING_FILE
    shown = display_path(path, root)
    if not path.exists():
        raise KBLoadError([KBIssue(shown, 1, "", "required file is missing")])
    try:
        doc = read_yaml(path)
    except ValueError as exc:
        raise KBLoadError([KBIssue(shown, 1, "", str(exc).split(": ", 1)[-1])]) from None
    if not isinstance(doc.data, dict):
        raise KBLoadError([KBIssue(shown, 1, "", "expected a mapping at the top of the file")])
    try:
        return FhirMapping.model_validate(doc.data)
    except ValidationError as exc:
        issues = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if isinstance(p, int | str))
            where = ".".join(str(p) for p in loc)
            msg = f"unknown key '{loc[-1]}'" if err["type"] == "extra_forbidden" else err["msg"]
            issues.append(KBIssue(shown, doc.line_of(loc), "", f"{where}: {msg}" if where
                                  else msg))
        raise KBLoadError(issues) from None
