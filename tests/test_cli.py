"""The `pumpdx` command line: readable output, JSON, stdin, schema, demo, and one-line
errors with exit code 2 for bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import CASES_DIR, run_cli

CASE = CASES_DIR / "maino_fentanyl_overinfusion.yaml"



def test_assess_prints_the_next_step_then_urgent_actions_with_citations(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "assess", str(CASE))
    assert code == 0
    lines = out.splitlines()
    next_step = next(i for i, line in enumerate(lines) if line.startswith("NEXT STEP: "))
    assert "naloxone" in lines[next_step]
    headings = [h for h in ("DO NOW", "NEXT STEPS", "SUSPECTED CAUSES", "FINDINGS") if h in lines]
    assert headings[0] == "DO NOW" and lines.index("DO NOW") > next_step
    assert [lines.index(h) for h in headings] == sorted(lines.index(h) for h in headings)
    assert "[Review §5.1" in out
    # the clinician's text: no trace, no rule ids, no firing numbers, no colour off a terminal
    assert "REASONING TRACE" not in out and "firing" not in out
    assert "rule ow_" not in out and "\033[" not in out


def test_assess_json_from_stdin(capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(CASE.read_bytes())))
    code, out, _ = run_cli(capsys, "assess", "-", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["decision_id"].startswith("dx-")
    assert any(c["id"] == "suspected_overinfusion" for c in data["conclusions"])


def test_schema_is_json_schema_of_a_case(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "schema")
    assert code == 0
    schema = json.loads(out)
    assert schema["title"] == "Case"
    assert "presentation" in schema["required"]


def test_demo_writes_every_bundled_case(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run_cli(capsys, "demo", "--quiet", "--out", str(tmp_path))
    assert code == 0
    assert str(tmp_path.resolve()) in out
    for case in CASES_DIR.glob("*.yaml"):
        data = json.loads((tmp_path / case.stem / "assessment.json").read_text())
        assert data["case"]["case_id"] == case.stem


@pytest.mark.parametrize(("content", "fragment"), [
    ('{"presentation": {"problems": ["overdose"]},'
     ' "pump": {"model": "synchromed_ii", "volume_cc": 3}}',
     "unknown field 'volume_cc'"),
    ('{"presentation": {"problems": ["overdose"]}, "pump": {"model": "synchromed_ii"},'
     ' "reservoir": {"measured_volume_ml": -2}}', "reservoir.measured_volume_ml"),
    ('{"presentation": ', "malformed JSON"),
    ('{"presentation": {"problems": ["overdose"]}, "pump": {"model": "synchromed_iv"}}',
     "pump.model"),
    ('{"presentation": {"problems": ["overdose"]}, "pump": {"model": "synchromed_ii"},'
     ' "drugs": [{"agent": "morphine", "concentration_mg_per_ml": "10 mg/mL"}]}',
     "unit is in the field name"),
])
def test_bad_input_gives_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                             content: str, fragment: str) -> None:
    path = tmp_path / "case.json"
    path.write_text(content)
    out_dir = tmp_path / "out"
    code, out, err = run_cli(capsys, "assess", str(path), "--out", str(out_dir))
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and fragment in err
    assert not out_dir.exists()


def test_no_traceback_end_to_end(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text("pump: [unclosed\n")
    proc = subprocess.run([sys.executable, "-m", "pumpdx.cli", "assess", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("pumpdx: error:") and "malformed YAML" in proc.stderr
