"""Bad input never crashes PumpDx: exit code 2, one line per problem naming it, no output.

The corpus in tests/malformed/ holds one bad case file per problem (broken JSON and
YAML, wrong types, units, impossible numbers, unknown vocabulary, inconsistent
cases, files that are no case at all); the huge files are generated here rather
than committed. Every file is run through `pumpdx assess FILE --out DIR` in
process, a few also through stdin and as a real subprocess (no traceback end to
end). Two generated-input properties close the gaps between the files: mutated
case text and wrong values in any field give a case or one clean InputError.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from pumpdx.cli import main
from pumpdx.engine.assess import Assessor
from pumpdx.engine.inputs import MAX_INPUT_BYTES, InputError, case_from_data, parse_text

from .strategies import case_dicts, profile

CORPUS = Path(__file__).resolve().parent / "malformed"

# file -> a piece of the error line that names the problem
EXPECTED: dict[str, str] = {
    # broken JSON
    "json_trailing_comma.json": "malformed JSON",
    "json_unclosed_brace.json": "malformed JSON",
    "json_single_quotes.json": "malformed JSON",
    "json_comment.json": "json_comment.json:2: malformed JSON",
    "json_truncated.json": "malformed JSON: Unterminated string",
    "json_duplicate_key.json": "duplicate key 'measured_volume_ml'",
    "json_nan_volume.json": "reservoir.measured_volume_ml",
    "json_top_level_list.json": "expected a mapping of case sections at the top level, got list",
    "json_top_level_string.json": "got str",
    "json_null.json": "empty; expected a case",
    "json_bare_number.json": "got int",
    "json_empty.json": "malformed JSON: Expecting value",
    # broken YAML
    "yaml_bad_indent.yaml": "yaml_bad_indent.yaml:3: malformed YAML",
    "yaml_tab_indent.yaml": "yaml_tab_indent.yaml:2: malformed YAML",
    "yaml_unclosed_flow.yaml": "malformed YAML",
    "yaml_python_tag.yaml": "could not determine a constructor",
    "yaml_duplicate_key.yaml": "yaml_duplicate_key.yaml:5: malformed YAML: duplicate key "
                               "'measured_volume_ml'",
    "yaml_impossible_date.yaml": "day is out of range for month",
    "yaml_two_documents.yaml": "another document",
    "yaml_unhashable_key.yaml": "unhashable key",
    "yaml_bad_int_tag.yaml": "cannot be read as its type",
    "yaml_undefined_alias.yaml": "yaml_undefined_alias.yaml:2: malformed YAML: anchors and aliases",
    "yaml_only_comment.yaml": "empty; expected a case",
    # anchors and aliases are refused (issue 10): no alias bomb, no recursive case
    "yaml_alias_bomb.yaml": "yaml_alias_bomb.yaml:1: malformed YAML: anchors and aliases "
                            "(&name, *name) are not allowed",
    "yaml_recursive_alias.yaml": "anchors and aliases (&name, *name) are not allowed",
    "yaml_doubling_alias.yaml": "anchors and aliases (&name, *name) are not allowed",
    "yaml_anchor_reuse.yaml": "yaml_anchor_reuse.yaml:1: malformed YAML: anchors and aliases",
    # numbers mean what was written: YAML 1.1's other number forms are refused
    "number_octal.yaml": "number_octal.yaml:3: malformed YAML: '010' has a leading zero (YAML "
                         "would read it as an octal number); write 10",
    "number_base60.yaml": "'1:30' is not a plain number (YAML would read it as base 60)",
    "number_hex.yaml": "'0x0c' is not a plain decimal number",
    "number_binary.yaml": "'0b101' is not a plain decimal number",
    "number_underscore.yaml": "'2_4' is not a plain number (YAML would drop the underscores); "
                              "write 24",
    "number_text_underscore.json": "reservoir.expected_volume_ml: expected a plain decimal "
                                   "number such as 10 or 2.5, got '2_4'",
    "json_leading_zero.json": "malformed JSON",
    "json_bom.json": "reservoir.measured_volume_ml: Input should be greater than or equal to 0",
    # control characters never reach the terminal or the report
    "case_id_escape.yaml": "case_id: control character U+001B is not allowed",
    "case_id_newline.json": "case_id: control character U+000A is not allowed",
    "unknown_field_escape.yaml": "reservoir: unknown field '\\x1b[8mhidden'",
    # lists are bounded before validation (a huge invalid list costs no memory)
    "signs_too_many.json": "presentation.signs: List should have at most 100 items (got 5000)",
    # wrong types
    "problems_not_a_list.yaml": "presentation.problems: Input should be a valid list",
    "pump_is_text.yaml": "pump: Input should be a valid dictionary",
    "volume_true.yaml": "reservoir.measured_volume_ml: expected a number, got true",
    "count_fraction.yaml": "exposures[0].count: Input should be a valid integer",
    "signs_mapping.yaml": "presentation.signs: Input should be a valid list",
    "drugs_mapping.yaml": "drugs: Input should be a valid list",
    "case_id_list.yaml": "case_id: Input should be a valid string",
    "date_us_format.yaml": "assessment_date: Input should be a valid date",
    "boolean_maybe.yaml": "interrogation.programming_error: Input should be a valid boolean",
    "reservoir_list.json": "reservoir: Input should be a valid dictionary",
    # units
    "volume_cc.yaml": "unknown field 'measured_volume_cc' (units are part of the field name",
    "volume_5_ml_string.yaml": "reservoir.measured_volume_ml: Input should be a valid number",
    "concentration_with_unit.json": "drugs[0].concentration_mg_per_ml: Input should be a valid "
                                    "number",
    "volume_no_unit.yaml": "reservoir: unknown field 'volume'",
    "dose_in_two_units.yaml": "drugs[0]: give daily_dose_mg_per_day or daily_dose_mcg_per_day, "
                              "not both",
    "reservoir_in_litres.yaml": "pump: unknown field 'reservoir_l'",
    "concentration_mcg_as_mg.yaml": "drugs[0].concentration_mg_per_ml: Input should be less "
                                    "than or equal to 100",
    "hours_as_text.yaml": "reservoir.hours_since_refill: Input should be a valid number",
    # negative and absurd numbers
    "negative_volume.yaml": "reservoir.measured_volume_ml: Input should be greater than or "
                            "equal to 0",
    "absurd_refill_volume.yaml": "reservoir.last_refill_volume_ml: Input should be less than "
                                 "or equal to 1000",
    "reservoir_size_wrong_for_model.yaml": "reservoir_ml for synchromed_ii must be 20 or 40 mL",
    "reservoir_zero.yaml": "pump.reservoir_ml: Input should be greater than 0",
    "infinite_volume.yaml": "reservoir.measured_volume_ml",
    "negative_hours.yaml": "reservoir.hours_since_refill: Input should be greater than",
    "absurd_csf_volume.yaml": "cap_aspiration.csf_volume_ml: Input should be less than",
    "huge_integer.json": "interrogation.pcia_activations: Input should be less than",
    "huge_integer_5000_digits.json": "a number of more than 1000 characters",
    # unknown vocabulary, inconsistent cases
    "unknown_drug.yaml": "drugs[0].agent: Input should be 'morphine'",
    "unknown_pump_model.yaml": "pump.model: Input should be 'synchromed_ii'",
    "unknown_problem.yaml": "presentation.problems[0]: Input should be 'overdose'",
    "unknown_sign.yaml": "presentation.signs[0]",
    "unknown_section.yaml": "unknown field 'favourite_colour'",
    "unknown_imaging_finding.yaml": "imaging[0].finding",
    "unknown_exposure.yaml": "exposures[0].kind",
    "manufacturer_mismatch.yaml": "model prometra is made by flowonix, not medtronic",
    "duplicate_agent.yaml": "each agent may appear once",
    "refill_after_assessment.yaml": "last_refill_date is after assessment_date",
    "refill_date_without_today.yaml": "last_refill_date needs assessment_date",
    "no_pump_no_trial.yaml": "a case needs a pump",
    "missing_presentation.yaml": "presentation: Field required",
    "no_problems.yaml": "presentation.problems: List should have at least 1 item",
    "description_too_long.yaml": "description: String should have at most 4000 characters",
    # no case at all
    "empty.yaml": "empty; expected a case",
    "whitespace_only.yaml": "empty; expected a case",
    "latin1.yaml": "not UTF-8 text",
    "binary.bin": "binary data",
    "image.png": "binary data",
    "deep_nesting.json": "nested too deeply",
    "deep_nesting.yaml": "nested too deeply",
    "deep_mapping.yaml": "nested too deeply",
}

VALID = "pump: {model: synchromed_ii, reservoir_ml: 20}\npresentation: {problems: [overdose]}\n"


def _generated(tmp: Path) -> dict[str, tuple[Path, str]]:
    """Inputs too big to commit: name -> (file, expected piece of the error line)."""
    files: dict[str, tuple[bytes, str]] = {
        "huge.yaml": ((VALID + "description: " + "x" * MAX_INPUT_BYTES + "\n").encode(),
                      f"larger than {MAX_INPUT_BYTES} bytes"),
        "huge.json": (b'{"a": "' + b"y" * (MAX_INPUT_BYTES * 3) + b'"}',
                      f"larger than {MAX_INPUT_BYTES} bytes"),
        "very_deep.json": (b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
        "very_deep.yaml": (b"pump: " + b"{a: " * 100_000 + b"1" + b"}" * 100_000,
                           "nested too deeply"),
        "many_imaging.yaml": ((VALID + "imaging:\n"
                               + "  - {modality: radiograph, finding: normal}\n" * 51).encode(),
                              "imaging: List should have at most 50 items"),
    }
    out = {}
    for name, (data, expected) in files.items():
        path = tmp / name
        path.write_bytes(data)
        out[name] = (path, expected)
    return out


def _check_error_line(err: str, expected: str, name: str) -> None:
    """One line per problem (an invalid case has every problem reported, issue 12), each
    naming the input; the first names the expected problem."""
    lines = err.splitlines()
    assert lines, "no error line"
    assert "Traceback" not in err
    for line in lines:
        assert line.startswith("pumpdx: error: "), line
        assert name in line, f"the error line does not name the input: {line}"
    assert expected in lines[0], f"expected {expected!r} in {lines[0]!r}"


def _run_in_process(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


def _no_files(folder: Path) -> bool:
    return not folder.exists() or not any(folder.rglob("*"))


# -- the corpus ------------------------------------------------------------------------
def test_corpus_has_an_expectation_for_every_file() -> None:
    files = {p.name for p in CORPUS.iterdir() if p.is_file()}
    assert files == set(EXPECTED), (f"no expectation for {sorted(files - set(EXPECTED))}; "
                                    f"no file for {sorted(set(EXPECTED) - files)}")
    assert len(files) >= 50


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_is_rejected(name: str, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code, stdout, err = _run_in_process(["assess", str(CORPUS / name), "--out", str(out)],
                                        capsys)
    assert code == 2
    assert stdout == ""
    _check_error_line(err, EXPECTED[name], name)
    assert _no_files(out), f"{name}: output written: {list(out.rglob('*'))}"


def test_generated_inputs_are_rejected(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    for name, (path, expected) in _generated(tmp_path).items():
        out = tmp_path / f"out-{name}"
        code, stdout, err = _run_in_process(["assess", str(path), "--out", str(out)], capsys)
        assert code == 2, name
        assert stdout == ""
        _check_error_line(err, expected, name)
        assert _no_files(out), name


@pytest.mark.parametrize("name", ["json_duplicate_key.json", "yaml_bad_indent.yaml",
                                  "binary.bin", "latin1.yaml", "negative_volume.yaml",
                                  "empty.yaml"])
def test_stdin_is_rejected(name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    stdin = io.TextIOWrapper(io.BytesIO((CORPUS / name).read_bytes()))
    monkeypatch.setattr(sys, "stdin", stdin)
    code, stdout, err = _run_in_process(["assess", "-", "--out", str(tmp_path / "o")], capsys)
    assert code == 2
    assert stdout == ""
    # stdin input is read as YAML (which accepts JSON): the problem is still named
    expected = {"json_duplicate_key.json": "duplicate key 'measured_volume_ml'",
                "yaml_bad_indent.yaml": ":3: malformed YAML"}.get(name, EXPECTED[name])
    _check_error_line(err, expected, "<stdin>")
    assert _no_files(tmp_path / "o")


def test_huge_stdin_is_rejected(monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    data = (VALID + "description: " + "z" * (2 * MAX_INPUT_BYTES)).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, _out, err = _run_in_process(["assess", "-"], capsys)
    assert code == 2
    _check_error_line(err, "larger than", "<stdin>")


def _pumpdx_command() -> list[str]:
    script = Path(sys.executable).parent / "pumpdx"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from pumpdx.cli import main; sys.exit(main())"]


def test_end_to_end_in_a_subprocess(tmp_path: Path) -> None:
    """The real command: exit code 2, one stderr line, no traceback, no output files."""
    generated = _generated(tmp_path)
    inputs = [(CORPUS / n, EXPECTED[n]) for n in (
        "json_truncated.json", "binary.bin", "unknown_drug.yaml", "yaml_impossible_date.yaml")]
    inputs += [generated["very_deep.yaml"]]
    for path, expected in inputs:
        out = tmp_path / f"out-{path.name}"
        proc = subprocess.run([*_pumpdx_command(), "assess", str(path), "--out", str(out)],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, (path.name, proc.stderr)
        assert proc.stdout == ""
        _check_error_line(proc.stderr, expected, path.name)
        assert _no_files(out)


# -- generated bad input -------------------------------------------------------------------
_TOKENS = [":", ": ", "{", "}", "[", "]", "- ", ",", "'", '"', "!", "!!int ", "!!timestamp ",
           "&a ", "*a", "? ", "|", ">", "#", "%", "@", "`", "\t", "\n", "\n  ", "0", "-1",
           "1e400", ".nan", ".inf", "true", "null", "~", "2024-02-30", "<<: ", "\\u0000",
           "\x00", "\ufeff", "é", "NaN", "Infinity", "9" * 40]

_edits = st.lists(st.tuples(st.floats(0, 1), st.sampled_from(["insert", "delete", "replace"]),
                            st.sampled_from(_TOKENS)), min_size=1, max_size=6)


def _mutate(text: str, edits: list[tuple[float, str, str]]) -> str:
    for where, op, token in edits:
        i = int(where * len(text))
        if op == "insert":
            text = text[:i] + token + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + len(token):]
        else:
            text = text[:i] + token + text[i + 1:]
    return text


def _load_or_input_error(text: str, name: str) -> Any:
    try:
        return case_from_data(parse_text(text, name), name)
    except InputError as exc:
        message = str(exc)
        assert "\n" not in message and message.startswith(name), message
        return None


@profile(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=case_dicts(), edits=_edits, fmt=st.sampled_from(["yaml", "json"]))
def test_mutated_case_text_gives_a_case_or_one_clean_error(
        data: dict[str, Any], edits: list[tuple[float, str, str]], fmt: str,
        assessor: Assessor) -> None:
    import json

    text = json.dumps(data) if fmt == "json" else yaml.safe_dump(data, allow_unicode=True)
    case = _load_or_input_error(_mutate(text, edits), f"case.{fmt}")
    if case is not None:
        assessor.assess(case)  # a mutated but valid case is assessed without error


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(data, dict):
        for k, v in data.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _paths(v, (*prefix, i))
    return out


@profile(suppress_health_check=[HealthCheck.too_slow])
@given(data=case_dicts(), choice=st.data())
def test_wrong_value_anywhere_gives_a_case_or_one_clean_error(
        data: dict[str, Any], choice: st.DataObject, assessor: Assessor) -> None:
    path = choice.draw(st.sampled_from(_paths(data)), label="path")
    value = choice.draw(_json_values, label="value")
    target: Any = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    try:
        case = case_from_data(data, "case")
    except InputError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("case")
        return
    assessor.assess(case)
