"""The authoring tools on the fixture knowledge base (tests/fixtures/mini_kb):
`pumpdx kb test` (scenarios as data), `kb coverage`, `kb diff` and `kb schema`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pumpdx.cli import main
from pumpdx.cli.kb_schema_cmd import rule_file_schema, schema_dir, stale_files
from pumpdx.engine.assess import Assessor
from pumpdx.engine.casesuite import CaseRun, collect_files, run_files
from pumpdx.engine.coverage import Coverage, compute_coverage, render
from pumpdx.kb import calculations
from pumpdx.kb.loader import load_kb

from .fixtures.minikb import make_kb

RULES = "rules/volume_check.yaml"


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_kb(tmp_path_factory.mktemp("kb"))


@pytest.fixture(scope="module")
def mini_assessor(mini: Path) -> Assessor:
    return Assessor(load_kb(mini))


def kb_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run `pumpdx kb ...`; (exit code, stdout, stderr)."""
    try:
        code = main(["kb", *args])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


SCENARIO = """id: {id}
title: Written by the test
case:
  pump: {{model: synchromed_ii, reservoir_ml: 20}}
  presentation: {{problems: [{problem}]}}
  reservoir: {{expected_volume_ml: 10, measured_volume_ml: 7}}
{rest}
"""


# -- kb test ---------------------------------------------------------------------------
def test_kb_test_passes_the_fixture_scenarios(mini: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kb_main(["test", "--kb", str(mini)], capsys)
    lines = out.splitlines()
    assert code == 0
    assert [line.split()[0] for line in lines[:-1]] == ["PASS"] * 4
    assert any(line.endswith("mini_lower") for line in lines)
    assert lines[-1].startswith("4 passed, 0 failed, 0 errors")


def test_kb_test_reports_what_differed_and_the_firings(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    root = make_kb(tmp_path, files={"scenarios/wrong.yaml": SCENARIO.format(
        id="wrong", problem="loss_of_therapy",
        rest="expect: [volume_higher]\nforbid: [volume_lower]")})
    code, out, _ = kb_main(["test", "--kb", str(root)], capsys)
    assert code == 1
    block = out[out.index("FAIL"):].splitlines()
    assert block[0].startswith("FAIL") and block[0].endswith("wrong")
    assert "expected but not concluded: volume_higher" in block[1]
    assert "forbidden but concluded: volume_lower" in block[2]
    assert "volume_lower <- rules vc_lower (firings" in out
    assert "fired: #1 triage_loss_of_therapy" in out
    assert out.splitlines()[-1].startswith("4 passed, 1 failed, 0 errors")


def test_kb_test_fails_a_scenario_that_breaks_a_safety_property(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the fixture has no cessation or neurosurgical-review concept for a new deficit
    root = make_kb(tmp_path, files={"scenarios/deficit.yaml": SCENARIO.format(
        id="deficit", problem="new_neurological_deficit", rest="forbid: [volume_higher]")})
    code, out, _ = kb_main(["test", "--kb", str(root), str(root / "scenarios/deficit.yaml")],
                           capsys)
    assert code == 1
    assert out.startswith("FAIL")
    assert "safety: mass_or_deficit_escalated" in out


def test_kb_test_errors_for_bad_files_and_unknown_concepts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_kb(tmp_path, files={
        "scenarios/no_expectations.yaml": SCENARIO.format(
            id="no_expectations", problem="loss_of_therapy", rest=""),
        "scenarios/unknown.yaml": SCENARIO.format(
            id="unknown", problem="loss_of_therapy", rest="expect: [volume_lowwer]"),
    })
    code, out, _ = kb_main(["test", "--kb", str(root), "--json"], capsys)
    data = json.loads(out)
    assert code == 1
    by_id = {r["id"]: r for r in data["results"]}
    assert by_id["no_expectations"]["status"] == "ERROR"
    assert "expect or forbid" in by_id["no_expectations"]["error"]
    assert by_id["unknown"]["status"] == "ERROR"
    assert by_id["unknown"]["error"] == "unknown concept ids: volume_lowwer"
    assert by_id["mini_lower"]["status"] == "PASS"
    assert data["summary"] == {"passed": 4, "failed": 0, "errors": 2}


def test_kb_test_bad_arguments_exit_2(mini: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = kb_main(["test", "--kb", str(tmp_path / "nowhere")], capsys)
    assert code == 2 and "knowledge-base folder not found" in err
    code, _, err = kb_main(["test", "--kb", str(mini), str(tmp_path / "none.yaml")], capsys)
    assert code == 2 and "no such file or folder" in err
    broken = make_kb(tmp_path, edits={RULES: [("conclude: volume_higher", "conclude: nope")]})
    code, _, err = kb_main(["test", "--kb", str(broken)], capsys)
    assert code == 2 and "unknown concept 'nope'" in err
    assert err.count("\n") == 1  # one line, no traceback


# -- coverage --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def coverage(mini: Path, mini_assessor: Assessor) -> Coverage:
    runs = run_files(mini_assessor, collect_files([mini / "scenarios", mini / "cases"]))
    scenarios = [r for r in runs if r.item.kind == "scenario"]
    cases = [r for r in runs if r.item.kind == "case"]
    assert [r.status for r in runs] == ["PASS"] * 6
    return compute_coverage(mini_assessor.kb, scenarios, cases)


def test_coverage_of_rules(coverage: Coverage) -> None:
    rules = {r.id: r for r in coverage.rules}
    assert rules["vc_lower"].scenarios == ["mini_lower"]
    assert rules["vc_nearly_empty"].scenarios == []  # only an example case fires it
    assert rules["vc_nearly_empty"].cases == ["nearly_empty"]
    assert "vc_nearly_empty" not in coverage.exercised()
    assert coverage.never_fired() == ["vc_higher"]
    assert (coverage.scenario_count, coverage.case_count) == (4, 2)


def test_coverage_of_sections_figures_and_branches(coverage: Coverage) -> None:
    sections = {s.section: s.rules for s in coverage.sections}
    assert sections["7.1"] == ["triage_withdrawal"]
    assert set(sections["5.1"]) == {"vc_expected_from_report", "vc_reconcile",
                                    "vc_nearly_empty"}
    figures = {f.figure: f.rules for f in coverage.figures}
    assert figures == {"8": ["triage_loss_of_therapy", "vc_as_expected"], "11": []}
    branches = {b.branch: b for b in coverage.branches}
    assert branches["Fig. 8: no discrepancy"].scenarios == ["mini_as_expected"]
    assert branches["Fig. 8: no discrepancy"].exercised
    assert not branches["Step 3: volume higher than expected"].exercised
    assert branches["Step 3: volume higher than expected"].group == "§7.3"
    # a scenario branch that no rule names shows up with no rules
    assert branches["7.1: withdrawal"].rules == []
    assert branches["7.1: withdrawal"].group == "§7.1"
    assert [b.group for b in coverage.branches][:2] == ["Fig. 8", "Fig. 8"]


def test_coverage_markdown_and_cli(mini: Path, tmp_path: Path, coverage: Coverage,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    md = render(coverage, "markdown")
    assert "| review | 7.1 | Step 1: triage and stabilization | 1: triage_withdrawal |" in md
    assert "- vc_higher (mini_kb/rules/volume_check.yaml:" in md
    out_file = tmp_path / "coverage.md"
    code, out, _ = kb_main(["coverage", "--kb", str(mini), "--markdown", "-o", str(out_file)],
                           capsys)
    assert code == 0 and out == ""
    assert out_file.read_text(encoding="utf-8") == md
    code, out, _ = kb_main(["coverage", "--kb", str(mini), "--json"], capsys)
    assert Coverage.model_validate_json(out) == coverage
    code, out, _ = kb_main(["coverage", "--kb", str(mini)], capsys)
    assert "Rules exercised by at least one scenario: 7 of 9" in out


# -- diff ------------------------------------------------------------------------------
NEW_RULE = """
  - id: vc_new
    title: A rule the edit adds
    cite: [{section: "7.3"}]
    when:
      - fact: presentation
        where: {kind: withdrawal}
    then:
      - conclude: measure_reservoir_volume
"""


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_kb(tmp_path_factory.mktemp("edited"), edits={
        "parameters.yaml": [("value: 2.0", "value: 1.0")],
        RULES: [("      - conclude: suspected_overinfusion\n",
                 "      - conclude: suspected_overinfusion\n      - conclude: refill_reservoir\n")],
    })
    text = (root / RULES).read_text(encoding="utf-8")
    start = text.index("  - id: vc_higher")
    end = text.index("  - id: vc_as_expected")
    (root / RULES).write_text(text[:start] + text[end:] + NEW_RULE, encoding="utf-8")
    return root


def test_diff_lists_rulebook_changes_and_case_by_case_effects(
        mini: Path, edited: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kb_main(["diff", str(mini), str(edited), "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    changes = {(c["kind"], c["id"]): c for c in data["changes"]}
    assert changes[("rule", "vc_higher")]["change"] == "removed"
    assert changes[("rule", "vc_new")]["change"] == "added"
    assert changes[("rule", "vc_lower")]["fields"] == ["then"]
    assert changes[("parameter", "low_reservoir_alarm_ml")]["detail"] == "2.0 -> 1.0"
    assert len(changes) == 4
    cases = {c["id"]: c for c in data["cases"]}
    assert data["cases_run"] == 6
    nearly_empty = cases["nearly_empty"]
    assert {g["id"] for g in nearly_empty["lost"]} == {"reservoir_nearly_empty",
                                                       "refill_reservoir"}
    assert nearly_empty["gained"] == []
    assert cases["mini_lower"]["gained"] == [
        {"id": "refill_reservoir", "kind": "recommendation", "rules": ["vc_lower"]}]
    assert cases["mini_withdrawal"]["gained"][0]["id"] == "measure_reservoir_volume"
    assert (cases["mini_withdrawal"]["old_status"],
            cases["mini_withdrawal"]["new_status"]) == ("PASS", "FAIL")
    unchanged = cases["mini_as_expected"]
    assert (unchanged["gained"], unchanged["lost"]) == ([], [])


def test_diff_text_shows_only_cases_that_changed(mini: Path, edited: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kb_main(["diff", str(mini), str(edited), "--cases", str(mini / "cases")],
                           capsys)
    assert code == 0
    assert "  - rule vc_higher" in out
    assert "  ~ parameter low_reservoir_alarm_ml: value (2.0 -> 1.0)" in out
    assert "Cases: 2 run on both, 1 with different results" in out
    assert "    - refill_reservoir (recommendation) <- vc_nearly_empty" in out
    assert "no_volume" not in out


def test_diff_reports_a_case_that_cannot_run(mini: Path, edited: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("presentation: {problems: [loss_of_therapy]}\npump: {model: nope}\n",
                   encoding="utf-8")
    code, out, _ = kb_main(["diff", str(mini), str(edited), "--cases", str(bad)], capsys)
    assert code == 1
    assert "ERROR" in out and "pump.model" in out


# -- schema ----------------------------------------------------------------------------
def test_committed_schema_files_are_up_to_date() -> None:
    assert stale_files(schema_dir()) == [], "run `pumpdx kb schema --write`"


def test_rule_schema_knows_fact_types_fields_and_values() -> None:
    schema = rule_file_schema()
    pattern = schema["$defs"]["PatternCondition"]
    assert "reservoir" in pattern["properties"]["fact"]["enum"]
    [reservoir] = [s["then"]["properties"]["where"] for s in pattern["allOf"]
                   if s["if"]["properties"]["fact"]["const"] == "reservoir"]
    assert "measured_volume_ml" in reservoir["propertyNames"]["enum"]
    [presentation] = [s["then"]["properties"]["where"] for s in pattern["allOf"]
                      if s["if"]["properties"]["fact"]["const"] == "presentation"]
    assert "overdose" in presentation["properties"]["kind"]["anyOf"][0]["enum"]
    compute = schema["$defs"]["ComputeAction"]["properties"]["compute"]["enum"]
    assert compute == sorted(calculations.CALCULATIONS)


def test_kb_schema_prints_each_format(capsys: pytest.CaptureFixture[str]) -> None:
    for kind, title in (("rules", "rule file"), ("concepts", "concept file"),
                        ("scenarios", "scenario test")):
        code, out, _ = kb_main(["schema", kind], capsys)
        assert code == 0
        assert title in json.loads(out)["title"]


def test_runs_are_reported_per_file(mini_assessor: Assessor, mini: Path) -> None:
    [run] = run_files(mini_assessor, [mini / "scenarios" / "measure.yaml"])
    assert isinstance(run, CaseRun)
    assert run.item.kind == "scenario" and run.status == "PASS"
    assert "vc_measure_needed" in run.fired_rules()
