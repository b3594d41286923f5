"""The fields of a case, for people: name, unit, allowed values, meaning, and which
sections of the review the rules that read it cite (`pumpdx schema --fields`,
`pumpdx case template`).

Everything comes from the input models (kb/facts) and the knowledge base, so the list
cannot drift from what a case accepts or from what the rules read.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from .facts import Case
from .loader import KnowledgeBase
from .rulelang import PatternCondition, patterns

UNITS = {
    "_ml": "mL", "_mg_per_ml": "mg/mL", "_mcg_per_ml": "mcg/mL", "_mg_per_day": "mg/day",
    "_mcg_per_day": "mcg/day", "_hours": "hours", "_minutes": "minutes", "_min": "minutes",
    "_t": "tesla", "_t_per_m": "T/m", "_t_per_m_per_s": "T/m/s", "_w_per_kg": "W/kg",
    "_cm": "cm", "_days": "days", "_months": "months", "_g_per_cm": "gauss/cm",
}


@dataclass(frozen=True)
class CaseField:
    path: str  # e.g. reservoir.measured_volume_ml, drugs[].agent
    kind: str  # number, integer, yes/no, text, date, choice, list of choices, section, list
    unit: str
    allowed: tuple[str, ...]
    bounds: str
    meaning: str
    required: bool
    used_in: tuple[str, ...] = ()


def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def allowed_values(annotation: Any) -> tuple[str, ...]:
    """The values an enum or Literal field (or a list of them) allows."""
    annotation = _strip_optional(annotation)
    if typing.get_origin(annotation) is list:
        return allowed_values(typing.get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return tuple(str(m.value) for m in annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return tuple(str(a) for a in typing.get_args(annotation))
    return ()


def nested_model(annotation: Any) -> type[BaseModel] | None:
    annotation = _strip_optional(annotation)
    if typing.get_origin(annotation) is list:
        return nested_model(typing.get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _unit(name: str) -> str:
    for suffix in sorted(UNITS, key=len, reverse=True):
        if name.endswith(suffix) or f"{suffix}_" in name:
            return UNITS[suffix]
    if name.startswith("days_"):
        return "days"
    return ""


def _bounds(info: FieldInfo) -> str:
    parts = []
    for meta in info.metadata:
        for attr, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            value = getattr(meta, attr, None)
            if value is not None:
                parts.append(f"{sign} {value:g}" if isinstance(value, float | int) else
                             f"{sign} {value}")
        value = getattr(meta, "max_length", None)
        if value is not None:
            parts.append(f"at most {value}")
    return ", ".join(parts)


def _kind(annotation: Any) -> str:
    annotation = _strip_optional(annotation)
    if typing.get_origin(annotation) is list:
        inner = typing.get_args(annotation)[0]
        if nested_model(inner) is not None:
            return "list"
        return "list of choices" if allowed_values(inner) else "list"
    if nested_model(annotation) is not None:
        return "section"
    if allowed_values(annotation):
        return "choice"
    if annotation is bool:
        return "yes/no"
    if annotation is int:
        return "integer"
    if annotation is float:
        return "number"
    if annotation is date:
        return "date"
    return "text"


def _doc(model: type[BaseModel]) -> str:
    return " ".join((model.__doc__ or "").split())


def case_fields(model: type[BaseModel] = Case, prefix: str = "") -> list[CaseField]:
    """Every field of a case, depth first, in the order of the models."""
    out: list[CaseField] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        kind = _kind(info.annotation)
        inner = nested_model(info.annotation)
        meaning = " ".join((info.description or "").split())
        if not meaning and inner is not None:
            meaning = _doc(inner)
        out.append(CaseField(path=path, kind=kind, unit=_unit(name),
                             allowed=allowed_values(info.annotation), bounds=_bounds(info),
                             meaning=meaning, required=info.is_required()))
        if inner is not None:
            sub = f"{path}[]." if kind == "list" else f"{path}."
            out.extend(case_fields(inner, sub))
    return out


def _patterns(conds: list[Any]) -> typing.Iterator[PatternCondition]:
    return (site.pattern for site in patterns(conds))


def field_sections(kb: KnowledgeBase) -> dict[str, tuple[str, ...]]:
    """Case path -> the citations of the rules that read it (sorted, unique)."""
    by_fact: dict[tuple[str, str], set[str]] = {}
    for lr in kb.rules:
        cites = {c.label() for c in lr.rule.cite}
        for pattern in _patterns(list(lr.rule.when)):
            for field_name in pattern.where:
                by_fact.setdefault((pattern.fact, field_name), set()).update(cites)
    out: dict[str, tuple[str, ...]] = {}
    for ft in kb.fact_types.values():
        if ft.origin != "input" or not ft.case_path:
            continue
        base = ft.case_path
        for field_name in ft.fields:
            read_by = by_fact.get((ft.name, field_name), set())
            if not read_by:
                continue
            if base.endswith("[]") and ft.name in ("presentation", "sign", "logged_alarm"):
                path = base.removesuffix("[]")  # the list itself holds the values
            else:
                path = f"{base}.{field_name}" if base else field_name
            targets = [path]
            if ft.name == "reservoir" and field_name == "days_since_refill":
                # computed from these (engine/casefacts.py)
                targets = ["reservoir.hours_since_refill", "reservoir.last_refill_date",
                           "assessment_date"]
            if ft.name == "drug" and field_name == "concentration_mg_per_ml":
                targets = ["drugs[].concentration_mg_per_ml", "drugs[].concentration_mcg_per_ml"]
            for target in targets:
                out[target] = tuple(sorted(set(out.get(target, ())) | read_by))
    return out


def described_fields(kb: KnowledgeBase) -> list[CaseField]:
    """case_fields() with the review sections that use each one."""
    sections = field_sections(kb)
    out = []
    for f in case_fields():
        used = sections.get(f.path, ())
        out.append(CaseField(f.path, f.kind, f.unit, f.allowed, f.bounds, f.meaning,
                             f.required, used))
    return out


def format_fields(fields: list[CaseField]) -> str:
    """The readable list printed by `pumpdx schema --fields`."""
    lines = ["Fields of a PumpDx case (YAML or JSON). Units are part of the field names; a",
             "field left out is unknown, never 'no'. Sections: one mapping each; lists: one",
             "entry per item.", ""]
    for f in fields:
        depth = f.path.count(".")
        head = "  " * depth + f.path.rsplit(".", 1)[-1]
        what = f.kind + (f", {f.unit}" if f.unit else "") + (f", {f.bounds}" if f.bounds else "")
        if f.required:
            what += ", required"
        lines.append(f"{head}  ({f.path}: {what})")
        pad = "  " * depth + "    "
        if f.meaning:
            lines.append(f"{pad}{f.meaning}")
        if f.allowed:
            lines.append(f"{pad}allowed: {', '.join(f.allowed)}")
        if f.used_in:
            lines.append(f"{pad}used by rules citing: {'; '.join(f.used_in)}")
    return "\n".join(lines) + "\n"
