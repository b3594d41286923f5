"""Hostile input beyond single bad case files (issue 10): YAML bombs and deep nesting in
knowledge-base, scenario and case files, numbers read as written, standard input,
FIFOs and /dev/stdin, and a decision id that does not depend on how signs are listed.

The commands run as real subprocesses where a crash of the interpreter (libyaml's
segmentation fault) is what must not happen, with RLIMIT_AS set so that a memory
blow-up fails the test instead of the machine.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pumpdx.cli import main
from pumpdx.engine.assess import Assessor
from pumpdx.engine.inputs import MAX_INPUT_BYTES, InputError, case_from_data, load_case
from pumpdx.kb.yamlfile import MAX_DEPTH, parse_yaml

from .conftest import CASES_DIR
from .fixtures.minikb import make_kb

MEMORY_LIMIT = 400 << 20  # address space of a child (the interpreter alone maps ~150 MB)
VALID = "pump: {model: synchromed_ii, reservoir_ml: 20}\npresentation: {problems: [overdose]}\n"
DEEP_BLOCK = "- " * 40_000 + "x\n"                      # 40,000 nested block sequences
DEEP_FLOW = "[" * 40_000 + "]" * 40_000 + "\n"          # 40,000 nested flow sequences
BOMB = "".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 9) if p else 'x'}]\n"
               for p, c in zip(" abcdefgh", "abcdefghi", strict=True))


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def pumpdx(*args: str, stdin: str | None = None, timeout: float = 120
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pumpdx", *args], input=stdin,
                          capture_output=True, text=True, timeout=timeout,
                          preexec_fn=_limit_memory)


# -- the YAML layer itself ---------------------------------------------------------------
@pytest.mark.parametrize("text, problem", [
    ("a: &s [*s]\n", "anchors and aliases"),
    ("a: &s [*s, *s]\n", "anchors and aliases"),
    (BOMB, "anchors and aliases"),
    ("a: " + DEEP_FLOW * 25, "nested too deeply"),   # 2 MB of brackets
    ("a:\n" + DEEP_BLOCK, "nested too deeply"),
    ("a: " + "{b: " * 100_000 + "1" + "}" * 100_000, "nested too deeply"),
])
def test_bombs_and_deep_nesting_fail_fast(text: str, problem: str) -> None:
    started = time.process_time()  # CPU time: a busy machine does not count
    with pytest.raises(Exception, match=problem):
        parse_yaml(text)
    assert time.process_time() - started < 2.0


def test_nesting_up_to_the_limit_is_read() -> None:
    text = "a: " + "[" * (MAX_DEPTH - 1) + "1" + "]" * (MAX_DEPTH - 1)
    data = parse_yaml(text)[1]
    for _ in range(MAX_DEPTH - 1):
        data = data["a"] if isinstance(data, dict) else data[0]
    assert data == [1] or data == 1


@pytest.mark.parametrize("written, value", [
    ("10", 10), ("-2", -2), ("2.5", 2.5), ("0", 0), (".5", 0.5), ("1e3", 1000.0),
    ("'010'", "010"), ('"1:30"', "1:30"), ("2024-01-05", "2024-01-05"), ("1.2.3", "1.2.3"),
])
def test_plain_numbers_and_quoted_text_are_read_as_written(written: str, value: object) -> None:
    data = parse_yaml(f"a: {written}\n")[1]
    assert str(data["a"]) == str(value)


def test_octal_expected_volume_no_longer_changes_the_fentanyl_assessment() -> None:
    """`010` was read as 8 and removed two urgent actions: now it is refused."""
    text = (CASES_DIR / "maino_fentanyl_overinfusion.yaml").read_text()
    assert "expected_volume_ml: 10" in text or "expected_volume_ml: " in text
    import re

    bad = re.sub(r"(expected_volume_ml: )(\d+)", lambda m: m.group(1) + "0" + m.group(2),
                 text, count=1)
    assert bad != text
    with pytest.raises(Exception, match="has a leading zero"):
        parse_yaml(bad)


# -- knowledge-base and scenario files --------------------------------------------------
def test_kb_commands_report_a_deep_or_aliased_rule_file_without_crashing(tmp_path: Path
                                                                        ) -> None:
    deep = make_kb(tmp_path, "deep", files={"rules/deep.yaml": "rules:\n" + DEEP_BLOCK})
    flow = make_kb(tmp_path, "flow", files={"rules/flow.yaml": "rules: " + DEEP_FLOW})
    bomb = make_kb(tmp_path, "bomb", files={"rules/bomb.yaml": BOMB})
    case = str(CASES_DIR / "maino_fentanyl_overinfusion.yaml")
    for root, problem in ((deep, "nested too deeply"), (flow, "nested too deeply"),
                          (bomb, "anchors and aliases")):
        for args in (["kb", "lint", str(root)], ["kb", "test", "--kb", str(root)],
                     ["assess", case, "--kb", str(root)]):
            proc = pumpdx(*args)
            assert proc.returncode in (1, 2), (args, proc.returncode, proc.stderr[-300:])
            assert problem in proc.stdout + proc.stderr, args
            assert "Traceback" not in proc.stderr


def test_a_scenario_file_with_an_alias_is_an_error_of_that_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_kb(tmp_path, files={"scenarios/alias.yaml": (
        "id: alias\ntitle: t\ncase:\n  pump: &p {model: synchromed_ii, reservoir_ml: 20}\n"
        "  presentation: {problems: [overdose]}\nexpect: [x]\n")})
    assert main(["kb", "test", "--kb", str(root)]) == 1
    out = capsys.readouterr().out
    assert "ERROR" in out and "anchors and aliases" in out


# -- standard input, FIFOs, /dev/stdin, byte-order marks -----------------------------------
def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


@pytest.mark.parametrize("data, expected", [
    (b'{"pump": {"model": "synchromed_ii", "reservoir_ml": 020}}', "<stdin>:1: malformed JSON"),
    (b"{pump: {model: synchromed_ii}}", "<stdin>:1: malformed JSON"),
    (b"010", "'010' has a leading zero"),
    (b"\xef\xbb\xbf" + VALID.encode() + b"reservoir: {measured_volume_ml: -1}\n",
     "reservoir.measured_volume_ml: Input should be greater than or equal to 0"),
])
def test_stdin_json_is_json_and_yaml_numbers_are_as_written(
        data: bytes, expected: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _stdin(monkeypatch, data)
    with pytest.raises(SystemExit) as info:
        main(["assess", "-"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err, err


def test_a_byte_order_mark_is_read_the_same_on_stdin_and_in_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, assessor: Assessor) -> None:
    data = b"\xef\xbb\xbf" + json.dumps({"pump": {"model": "synchromed_ii", "reservoir_ml": 20},
                                         "presentation": {"problems": ["overdose"]}}).encode()
    for suffix in (".json", ".yaml"):
        (tmp_path / f"case{suffix}").write_bytes(data)
        assert load_case(str(tmp_path / f"case{suffix}")).pump is not None
    _stdin(monkeypatch, data)
    assert load_case("-").pump is not None


def test_a_fifo_and_dev_stdin_are_readable(tmp_path: Path) -> None:
    case = (CASES_DIR / "maino_fentanyl_overinfusion.yaml").read_text()
    fifo = tmp_path / "case.fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "w") as handle:
            handle.write(case)

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        assert load_case(str(fifo)).case_id == "maino_fentanyl_overinfusion"
    finally:
        writer.join(timeout=10)
    proc = pumpdx("assess", "/dev/stdin", "--json", stdin=case)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["case"]["case_id"] == "maino_fentanyl_overinfusion"


def test_a_folder_or_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a folder"):
        load_case(str(tmp_path))
    with pytest.raises(InputError, match="no such file"):
        load_case(str(tmp_path / "nope.yaml"))


# -- size and shape: bounded before validation ------------------------------------------
@pytest.mark.parametrize("data", [
    {"presentation": {"problems": ["overdose"], "signs": ["nope"] * 240_000}},
    {"presentation": {"problems": ["overdose"]}, **{f"k{i}": 1 for i in range(50_000)}},
    {"presentation": {"problems": ["overdose"]},
     "imaging": [{"modality": "x", "finding": "y"} for _ in range(100)] * 10},
])
def test_huge_invalid_cases_are_rejected_cheaply(data: dict[str, object]) -> None:
    import tracemalloc

    tracemalloc.start()
    started = time.process_time()
    try:
        with pytest.raises(InputError):
            case_from_data(data, "case")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.process_time() - started < 2.0
    assert peak < 5 << 20, f"validation peaked at {peak >> 20} MB"


def test_largest_hostile_case_files_finish_fast_in_a_bounded_process(tmp_path: Path) -> None:
    """1 MB of the worst shapes: each exits 2 with one line, in a process limited to
    MEMORY_LIMIT of address space; the parsing itself stays well under 2 s."""
    size = MAX_INPUT_BYTES - 100
    shapes = {
        "flow.yaml": "a: " + "[" * (size // 2) + "]" * (size // 2),
        "block.yaml": "a:\n" + "- " * (size // 2) + "x",
        "many.yaml": "a: [" + "1, " * (size // 3) + "1]",
        "maps.json": "[" + ",".join(["{}"] * (size // 3)) + "]",
        "keys.yaml": VALID + "".join(f"k{i}: 1\n" for i in range(size // 12)),
        "strings.json": json.dumps({"presentation": {"problems": ["overdose"],
                                                     "signs": ["x" * 50] * (size // 60)}}),
    }
    for name, text in shapes.items():
        (tmp_path / name).write_text(text)
        started = time.monotonic()
        proc = pumpdx("assess", str(tmp_path / name))
        assert proc.returncode == 2, (name, proc.stderr[-300:])
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("pumpdx: error: ")
        assert time.monotonic() - started < 60, name  # wall time, interpreter start included
        path = tmp_path / name
        started = time.process_time()
        with pytest.raises(InputError):
            load_case(str(path))
        assert time.process_time() - started < 2.0, name


# -- decision ids -------------------------------------------------------------------------
def test_decision_id_does_not_depend_on_sign_order_or_repeats(run: object) -> None:
    base = {"pump": {"model": "synchromed_ii", "reservoir_ml": 20},
            "drugs": [{"agent": "morphine"}],
            "presentation": {"problems": ["overdose", "withdrawal"],
                             "signs": ["sedation", "respiratory_depression"]}}
    shuffled = json.loads(json.dumps(base))
    shuffled["presentation"]["signs"] = ["respiratory_depression", "sedation", "sedation"]
    shuffled["presentation"]["problems"] = ["withdrawal", "overdose", "withdrawal"]
    first, second = run(base), run(shuffled)  # type: ignore[operator]
    assert first.decision_id == second.decision_id
    assert first.model_dump() == second.model_dump()


# -- runaway joins: refused by lint, stopped by the engine ----------------------------------
FIVE_SIGNS = """
  - id: five_signs
    title: Joins five signs with nothing pinned
    cite: [{section: "7.1", quote: "Withdrawal needs supportive care first"}]
    when:
""" + "".join(f"      - fact: sign\n        where: {{name: $s{i}}}\n" for i in range(5)) + """\
    then:
      - conclude: urgent_supportive_care
"""


@pytest.fixture(scope="module")
def join_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_kb(tmp_path_factory.mktemp("join"))
    rules = root / "rules" / "triage.yaml"
    rules.write_text(rules.read_text().rstrip("\n") + "\n" + FIVE_SIGNS)
    return root


def test_lint_refuses_an_unbounded_join(join_kb: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    assert main(["kb", "lint", str(join_kb)]) == 1
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if "unbounded_join" in x)
    assert "five_signs: unbounded join: the patterns can make the engine try 115,856,201 " \
           "combinations" in line


def test_lint_accepts_the_shipped_rules_joins() -> None:
    from pumpdx.kb.joins import JOIN_LIMIT, instance_bounds, worst_join
    from pumpdx.kb.loader import load_kb

    kb = load_kb()
    bounds = instance_bounds(kb)
    assert bounds["sign"] == 41 or bounds["sign"] > 1
    assert max(worst_join(list(lr.rule.when), bounds) for lr in kb.rules) <= JOIN_LIMIT


def test_the_engine_stops_a_runaway_case_by_time_or_memory(
        join_kb: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pumpdx.engine.runtime import RunawayError
    from pumpdx.kb.facts import Case
    from pumpdx.kb.facts.presentation import Sign
    from pumpdx.kb.loader import load_kb

    assessor = Assessor(load_kb(join_kb))
    signs = [s.value for s in Sign][:20]
    case = Case.model_validate({"pump": {"model": "synchromed_ii", "reservoir_ml": 20},
                                "presentation": {"problems": ["withdrawal"], "signs": signs}})
    cpu = time.process_time()
    with pytest.raises(RunawayError, match="the engine stopped this case: more than"):
        assessor.assess(case)
    assert time.process_time() - cpu < 2 * assessor.max_case_cpu_seconds + 1
    # the engine is usable again: a case with one sign is assessed
    small = Case.model_validate({"pump": {"model": "synchromed_ii", "reservoir_ml": 20},
                                 "presentation": {"problems": ["withdrawal"],
                                                  "signs": signs[:1]}})
    assert [c.id for c in assessor.assess(small).conclusions] == ["urgent_supportive_care"]
    # the command line: exit 2, one line
    path = tmp_path / "case.json"
    path.write_text(case.model_dump_json(exclude_none=True))
    proc = pumpdx("assess", str(path), "--kb", str(join_kb), timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "the engine stopped this case" in proc.stderr
