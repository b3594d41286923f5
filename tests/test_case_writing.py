"""Writing a case: the template, the field list, every mistake at once with its line,
free-text other findings, impossible combinations."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from pumpdx.cli import main
from pumpdx.engine.assess import Assessor
from pumpdx.engine.casetemplate import case_template, problems
from pumpdx.engine.inputs import InputError, load_case
from pumpdx.viz.report import html_report
from pumpdx.viz.textview import format_assessment

from .conftest import REPO

BLANK = re.compile(r"^(?P<lead>\s*(?:- )?)(?P<key>[a-z_]+):(?P<value>[^#]*?)\s*#\s*(?P<hint>.*)$")


def fill(template: str, values: dict[str, str]) -> str:
    """Write `values` into the template's blank lines (as a clinician fills it in); every
    other REQUIRED blank gets the first value its comment allows."""
    out = []
    for line in template.splitlines():
        found = BLANK.match(line)
        if found and not line.lstrip().startswith("#"):
            key, value, hint = found["key"], found["value"].strip(), found["hint"]
            if key in values:
                value = values[key]
            elif value in ("", "[]") and hint.startswith("REQUIRED"):
                allowed = re.search(r"(one|any) of: ([a-z_0-9]+)", hint)
                assert allowed, f"a REQUIRED blank without allowed values: {line}"
                value = allowed.group(2) if allowed.group(1) == "one" else f"[{allowed.group(2)}]"
            line = f"{found['lead']}{key}: {value}".rstrip()
        out.append(line)
    return "\n".join(out) + "\n"


WITHDRAWAL = {"case_id": "ed-2024-17", "assessment_date": "2024-03-02",
              "model": "synchromed_ii", "reservoir_ml": "20", "agent": "morphine",
              "concentration_mg_per_ml": "10", "signs": "[diaphoresis, agitation, tachycardia]",
              "motor_stall": "none", "programming_error": "false",
              "expected_volume_ml": "6", "measured_volume_ml": "5.8",
              "other_findings": "new cat at home; poor sleep"}


def test_a_filled_withdrawal_template_is_valid_in_one_try(tmp_path: Path,
                                                          assessor: Assessor) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(fill(case_template("withdrawal"), WITHDRAWAL), encoding="utf-8")
    case = load_case(str(path))
    assert [str(p) for p in case.presentation.problems] == ["withdrawal"]
    assert case.interrogation is not None and case.labs is None  # blank section: not entered
    a = assessor.assess(case)
    assert "withdrawal_predominant_pattern" in a.conclusion_ids()
    assert "interrogate_pump_immediately" not in a.conclusion_ids()


@pytest.mark.parametrize("problem", [None, *problems()])
def test_every_template_parses_and_validates_once_its_required_blanks_are_filled(
        problem: str | None, tmp_path: Path) -> None:
    text = case_template(problem)
    assert isinstance(yaml.safe_load(text), dict)
    path = tmp_path / "case.yaml"
    path.write_text(fill(text, {"model": "synchromed_ii"}), encoding="utf-8")
    load_case(str(path))


def test_template_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["case", "template", "--problem", "withdrawal"]) == 0
    out = capsys.readouterr().out
    assert "problems: [withdrawal]" in out and "measured_volume_ml:" in out
    with pytest.raises(SystemExit) as err:
        main(["case", "template", "--problem", "withdrawl"])
    assert err.value.code == 2


def test_the_readme_example_case_is_valid(tmp_path: Path) -> None:
    """README.md shows a filled withdrawal template; it must stay valid."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- withdrawal case -->", 1)[1].split("```yaml\n", 1)[1]
    path = tmp_path / "case.yaml"
    path.write_text(block.split("```", 1)[0], encoding="utf-8")
    case = load_case(str(path))
    assert [str(p) for p in case.presentation.problems] == ["withdrawal"]


THREE_MISTAKES_YAML = """\
pump:
  model: synchromed_2
  reservoir_ml: 20
drugs:
  - agent: morfine
    concentration_mg_per_ml: 10
presentation:
  problems: [withdrawal]
reservoir:
  measured_volum_ml: 3
"""


def _errors(capsys: pytest.CaptureFixture[str], path: Path) -> list[str]:
    with pytest.raises(SystemExit) as err:
        main(["assess", str(path)])
    assert err.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err.splitlines()


def test_three_mistakes_are_named_with_their_lines(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(THREE_MISTAKES_YAML, encoding="utf-8")
    lines = _errors(capsys, path)
    assert len(lines) == 3, lines
    assert all(line.startswith(f"pumpdx: error: {path}:") for line in lines)
    model, agent, volume = lines
    assert f"{path}:2:10: pump.model:" in model and "did you mean 'synchromed_ii'" in model
    assert f"{path}:5:12: drugs[0].agent:" in agent and "did you mean 'morphine'" in agent
    assert f"{path}:10:3: reservoir: unknown field 'measured_volum_ml'" in volume
    assert "did you mean 'measured_volume_ml'" in volume


def test_three_mistakes_in_json_are_named_with_their_lines(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "case.json"
    path.write_text('{\n  "pump": {"model": "prometra", "reservoir_ml": "twenty"},\n'
                    '  "presentation": {"problems": ["withdrawl"]},\n'
                    '  "reservoir": {"measured_volume_ml": true}\n}\n', encoding="utf-8")
    lines = _errors(capsys, path)
    assert len(lines) == 3, lines
    assert any(f"{path}:2:" in x and "pump.reservoir_ml" in x for x in lines)
    assert any(f"{path}:3:" in x and "did you mean 'withdrawal'" in x for x in lines)
    assert any(f"{path}:4:" in x and "expected a number, got true" in x for x in lines)


def test_the_api_error_is_one_line_with_every_problem_attached(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(THREE_MISTAKES_YAML, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_case(str(path))
    assert "\n" not in str(err.value) and "(and 2 more problems)" in str(err.value)
    assert len(err.value.problems) == 3


def test_expected_volume_above_the_reservoir_is_an_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "case.yaml"
    path.write_text("pump: {model: synchromed_ii, reservoir_ml: 20}\n"
                    "presentation: {problems: [withdrawal]}\n"
                    "reservoir:\n  expected_volume_ml: 20.5\n", encoding="utf-8")
    (line,) = _errors(capsys, path)
    assert f"{path}:4:23:" in line and "above the reservoir size" in line
    path.write_text(path.read_text().replace("20.5", "20"), encoding="utf-8")
    load_case(str(path))  # exactly the reservoir size is possible


def test_other_findings_are_shown_and_never_reasoned_on(assessor: Assessor) -> None:
    from pumpdx.kb.facts import Case

    base: dict[str, Any] = {"pump": {"model": "synchromed_ii", "reservoir_ml": 20},
                            "drugs": [{"agent": "morphine"}],
                            "presentation": {"problems": ["withdrawal"],
                                             "signs": ["diaphoresis"]}}
    note = "withdrawal after missed refill? <b>new</b> respiratory depression"
    plain = assessor.assess(Case.model_validate(base))
    noted = assessor.assess(Case.model_validate({**base, "other_findings": note}))
    assert [c.model_dump() for c in noted.conclusions] == [c.model_dump()
                                                           for c in plain.conclusions]
    assert noted.trace.firings == plain.trace.firings
    assert noted.case["other_findings"] == note
    assert note in " ".join(format_assessment(noted, assessor.kb).split())
    page = html_report(noted, assessor.kb)
    assert "&lt;b&gt;new&lt;/b&gt;" in page and "<b>new</b>" not in page


def test_schema_fields_lists_units_values_meaning_and_sections(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--fields"]) == 0
    out = capsys.readouterr().out
    entry = out[out.index("(reservoir.measured_volume_ml:"):]
    entry = entry[: entry.index("\n  ", entry.index("\n") + 1) + 1]
    assert "number, mL" in entry and "aspirated" in entry and "§5.1" in out
    assert "allowed: none, temporary, permanent" in out
    assert "(other_findings: text" in out


def test_a_prometra_alarm_logged_on_a_synchromed_is_named_with_its_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An impossible combination (per-manufacturer logged alarms, kb/facts/case.py)."""
    path = tmp_path / "case.yaml"
    path.write_text("pump: {model: synchromed_ii, reservoir_ml: 20}\n"
                    "presentation: {problems: [alarm]}\ninterrogation:\n"
                    "  motor_stall: none\n  alarms_logged: [critical_error]\n", encoding="utf-8")
    (line,) = _errors(capsys, path)
    assert f"{path}:5:18:" in line and "'critical_error' is not an alarm of a medtronic" in line
