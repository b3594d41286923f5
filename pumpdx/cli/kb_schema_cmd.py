"""pumpdx kb schema: JSON Schemas of the authoring formats, for editors.

Generated from the pydantic models (kb/schema.py, engine/scenarios.py, the case model)
plus the fact vocabulary (kb/facts/registry.py): fact type names, the field names of
each fact type and their allowed values, so that an editor with a YAML plugin
completes `fact:` and `where:` and underlines a misspelt field. Names that depend on a
knowledge base's content (concept ids, algorithms) are not in the schemas; `pumpdx kb
lint` checks those. The generated files live in kb/schema/ (`--write` regenerates them,
`--check` fails when they are out of date).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pumpdx.engine.scenarios import ScenarioFile
from pumpdx.kb import calculations
from pumpdx.kb.facts import Case
from pumpdx.kb.facts.registry import FactType, FieldSpec, build_fact_types
from pumpdx.kb.loader import default_kb_dir
from pumpdx.kb.rulelang import OPERATORS, VARIABLE, declarable_fact_types
from pumpdx.kb.schema import ConceptFile, RuleFile

from .common import EXIT_FAILED, EXIT_OK, CommandError, write_atomic

Schema = dict[str, Any]
FIELD_TEST = {"$ref": "#/$defs/FieldTest"}


def _vocabulary() -> dict[str, FactType]:
    """Fact types without a KB's content (concept ids, algorithms, drug classes)."""
    return build_fact_types((), (), ())


def _where_value(spec: FieldSpec) -> Schema:
    variable = {"type": "string", "pattern": VARIABLE}
    if spec.kind == "choice" and spec.choices:
        choices = list(spec.choices)
        # operators that name values of the field (not numeric ones) take the choices
        named: Schema = {key: {"enum": choices} if op.operand == "value"
                         else {"items": {"enum": choices}}
                         for key, op in OPERATORS.items()
                         if op.operand in ("value", "values") and not op.numeric}
        return {"anyOf": [
            {"enum": choices},
            variable,
            {"allOf": [FIELD_TEST], "properties": named},
        ]}
    literal = {"number": {"type": "number"}, "integer": {"type": "integer"},
               "boolean": {"type": "boolean"}}.get(spec.kind, {"type": "string"})
    return {"anyOf": [literal, variable, FIELD_TEST]}


def _declare_value(spec: FieldSpec) -> Schema:
    variable = {"type": "string", "pattern": VARIABLE}
    if spec.kind == "choice" and spec.choices:
        return {"anyOf": [{"enum": list(spec.choices)}, variable]}
    literal = {"number": {"type": "number"}, "integer": {"type": "integer"},
               "boolean": {"type": "boolean"}}.get(spec.kind, {"type": "string"})
    return {"anyOf": [literal, variable]}


def _per_fact(types: dict[str, FactType], key: str,
              value: Callable[[FieldSpec], Schema]) -> list[Schema]:
    return [{
        "if": {"properties": {"fact": {"const": name}}, "required": ["fact"]},
        "then": {"properties": {key: {
            "propertyNames": {"enum": sorted(ft.fields)},
            "properties": {f: value(s) for f, s in sorted(ft.fields.items())},
        }}},
    } for name, ft in sorted(types.items())]


def rule_file_schema() -> Schema:
    schema = RuleFile.model_json_schema(by_alias=True)
    defs = schema["$defs"]
    types = _vocabulary()
    pattern = defs["PatternCondition"]
    pattern["properties"]["fact"]["enum"] = sorted(types)
    pattern["allOf"] = _per_fact(types, "where", _where_value)
    declarable = {n: types[n] for n in declarable_fact_types(types)}
    declare = defs["DeclareSpec"]
    declare["properties"]["fact"]["enum"] = sorted(declarable)
    declare["allOf"] = _per_fact(declarable, "with", _declare_value)
    defs["ComputeAction"]["properties"]["compute"]["enum"] = sorted(calculations.CALCULATIONS)
    # `not:` takes one condition or a list of them (NotCondition._wrap_single)
    not_list = defs["NotCondition"]["properties"]["not"]
    defs["NotCondition"]["properties"]["not"] = {
        "anyOf": [not_list, not_list["items"]], "title": not_list.get("title", "Not")}
    return _finish(schema, "PumpDx rule file (kb/rules/*.yaml)")


def concept_file_schema() -> Schema:
    return _finish(ConceptFile.model_json_schema(by_alias=True),
                   "PumpDx concept file (kb/concepts/*.yaml)")


def scenario_file_schema() -> Schema:
    schema = ScenarioFile.model_json_schema(by_alias=True)
    case = Case.model_json_schema(by_alias=True)
    defs = schema.setdefault("$defs", {})
    defs.update(case.pop("$defs", {}))
    defs["Case"] = case
    schema["properties"]["case"] = {"$ref": "#/$defs/Case",
                                    "description": "The case, inline (or give case_file)."}
    schema["oneOf"] = [{"required": ["case"]}, {"required": ["case_file"]}]
    return _finish(schema, "PumpDx scenario test (kb/scenarios/**.yaml)")


def _finish(schema: Schema, title: str) -> Schema:
    schema["title"] = title
    schema["description"] = ("Generated by `pumpdx kb schema --write`; do not edit. "
                             "See docs/authoring-tools.md.")
    return schema


SCHEMA_FILES: dict[str, Callable[[], Schema]] = {
    "rule-file.schema.json": rule_file_schema,
    "concept-file.schema.json": concept_file_schema,
    "scenario-file.schema.json": scenario_file_schema,
}
KINDS = {"rules": "rule-file.schema.json", "concepts": "concept-file.schema.json",
         "scenarios": "scenario-file.schema.json"}


def schema_text(name: str) -> str:
    return json.dumps(SCHEMA_FILES[name](), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema_dir() -> Path:
    return default_kb_dir() / "schema"


def stale_files(folder: Path) -> list[str]:
    """Schema files in `folder` that are missing or differ from what the models give."""
    out = []
    for name in SCHEMA_FILES:
        path = folder / name
        try:
            current = path.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != schema_text(name):
            out.append(name)
    return out


def register(kb_sub: Any) -> None:
    p = kb_sub.add_parser("schema", help="JSON Schema of rule, concept and scenario files "
                          "(for editors)", description=__doc__)
    p.add_argument("kind", nargs="?", choices=sorted(KINDS), default="rules",
                   help="which format to print (default: rules)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true",
                       help="regenerate every schema file in kb/schema/")
    group.add_argument("--check", action="store_true",
                       help="exit 1 when a file in kb/schema/ is out of date")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    folder = schema_dir()
    if args.write:
        texts = {name: schema_text(name) for name in SCHEMA_FILES}
        for name, text in texts.items():
            try:
                write_atomic(folder / name, text, private=False)
                (folder / name).chmod(0o644)
            except OSError as exc:
                raise CommandError(f"{folder / name}: cannot write: {exc.strerror}") from None
            print(f"wrote {folder / name}")
        return EXIT_OK
    if args.check:
        stale = stale_files(folder)
        for name in stale:
            print(f"{folder / name}: out of date; run `pumpdx kb schema --write`")
        return EXIT_FAILED if stale else EXIT_OK
    print(schema_text(KINDS[args.kind]), end="")
    return EXIT_OK
