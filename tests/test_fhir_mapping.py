"""The FHIR mapping table (kb/fhir_mapping.yaml) loads and is validated like the other KB
files: every problem named by file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pumpdx.kb.facts import Agent, Problem, PumpModel, Sign
from pumpdx.kb.fhir_mapping import MAPPING_FILE, load_fhir_mapping
from pumpdx.kb.issues import KBLoadError

from .conftest import KB_DIR


def test_the_shipped_table_maps_the_whole_vocabulary_in_the_projects_own_system() -> None:
    mapping = load_fhir_mapping(KB_DIR)
    assert {str(r.model) for r in mapping.devices} == {str(m) for m in PumpModel}
    assert {str(r.agent) for r in mapping.medications} == {str(a) for a in Agent}
    assert {str(r.problem) for r in mapping.conditions} == {str(p) for p in Problem}
    assert {str(r.sign) for r in mapping.observations if r.sign} == {str(s) for s in Sign}
    every = [*mapping.intrathecal_routes, *mapping.devices, *mapping.medications,
             *mapping.conditions, *mapping.observations]
    assert {r.system for r in every} == {mapping.code_system} == {"urn:pumpdx:codes"}


@pytest.mark.parametrize("row, message", [
    ("  - {system: s, code: c, field: reservoir.volume_cc, unit: mL}",
     "field 'reservoir.volume_cc' is not a single value"),
    ("  - {system: s, code: c, field: reservoir.measured_volume_ml}", "give its unit"),
    ("  - {system: s, code: c, sign: sweaty}", "sign: Input should be"),
    ("  - {system: s, code: c, sign: fever, problem: overdose}", "exactly one"),
    ("  - {system: urn:pumpdx:codes, code: sign-fever, sign: fever}", "mapped twice"),
    ("  - {system: s, code: c, sign: fever, colour: red}", "unknown key 'colour'"),
])
def test_a_broken_row_is_named_by_file_and_line(tmp_path: Path, row: str,
                                                message: str) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    text = (KB_DIR / MAPPING_FILE).read_text(encoding="utf-8").rstrip("\n") + "\n" + row + "\n"
    (kb / MAPPING_FILE).write_text(text, encoding="utf-8")
    with pytest.raises(KBLoadError) as err:
        load_fhir_mapping(kb)
    first = str(err.value.issues[0])
    assert first.startswith("kb/fhir_mapping.yaml:") and message in first
    if "mapped twice" not in message:  # a table-wide check names the table
        assert int(first.split(":")[1]) == len(text.splitlines())


def test_a_missing_table_is_a_load_error(tmp_path: Path) -> None:
    shutil.copytree(KB_DIR / "concepts", tmp_path / "concepts")
    with pytest.raises(KBLoadError, match="required file is missing"):
        load_fhir_mapping(tmp_path)
