"""Fuzzing the command line with hostile YAML and JSON (issue 10).

Generated inputs mix aliases and anchors, deep nesting, numbers that YAML 1.1 reads
otherwise than written, huge numbers, control characters and byte-order marks into
real cases, and feed them to `pumpdx assess` (file and stdin), `pumpdx batch` and
`pumpdx kb lint`. Every run must end with exit 0, 1 or 2, a bad input must give one
`pumpdx: error:` line, and each run must stay within CPU_SECONDS of CPU time and
MEMORY_MB of resident memory.

The commands run through the CLI entry point in one driver process whose address
space is limited with RLIMIT_AS (a memory blow-up fails there, not on the machine);
the driver reports each run's exit code, stderr, CPU time and peak memory.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from .fixtures.minikb import make_kb
from .strategies import PROFILE_NAME, case_dicts, profile

CPU_SECONDS = 2.0
MEMORY_MB = 200
ADDRESS_SPACE_MB = 600  # the interpreter and its libraries map ~150 MB before any input
EXAMPLES = {"ci": 40, "long": 1000, "dev": 15}[PROFILE_NAME]

DRIVER = textwrap.dedent("""
    import contextlib, io, json, os, resource, sys, time
    limit = int(sys.argv[1]) << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from pumpdx.cli import main
    from pumpdx.engine.assess import default_assessor
    default_assessor()  # the engine is built once, as in a long-running process

    def peak_mb():
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    for request in sys.stdin:
        request = json.loads(request)
        err, out = io.StringIO(), io.StringIO()
        stdin = io.TextIOWrapper(io.BytesIO(request["stdin"].encode("utf-8", "surrogatepass")))
        sys.stdin, saved = stdin, sys.stdin
        started = time.process_time()
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
                try:
                    code = main(request["argv"])
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else 2
        except MemoryError:
            code = "MemoryError"
        finally:
            sys.stdin = saved
        print(json.dumps({"code": code, "stderr": err.getvalue()[-2000:],
                          "cpu": time.process_time() - started, "peak_mb": peak_mb()}),
              flush=True)
""")


class Driver:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", DRIVER, str(ADDRESS_SPACE_MB)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)

    def run(self, argv: list[str], stdin: str = "") -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"argv": argv, "stdin": stdin}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise AssertionError(f"the driver died on {argv}: {err[-2000:]}")
        result: dict[str, Any] = json.loads(line)
        return result

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


@pytest.fixture(scope="module")
def driver() -> Iterator[Driver]:
    d = Driver()
    yield d
    d.close()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


# -- hostile pieces ------------------------------------------------------------------------
ODD_NUMBERS = ["010", "-007", "1:30", "190:20:30", "0x0c", "0b101", "0o17", "2_4", "1_000.5",
               "1e400", "-1e400", ".nan", ".inf", "-.inf", "1" * 50, "9" * 1200, "07.5",
               "+5", "-0", "1e3", "0.", ".5", "1.5e-3"]
CONTROLS = ["\x1b[8m", "\x1b]0;x\x07", "\r", "\x00", "\x7f", "\x85", "\u202e", "\u2066",
            "\ufeff", "\ud800"]


def _yaml_string(text: str) -> str:
    """A double-quoted YAML scalar holding `text` (controls as escapes)."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or 0x7f <= ord(ch) <= 0x9f or 0xd800 <= ord(ch) <= 0xdfff:
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


hostile_scalars = st.one_of(
    st.sampled_from(ODD_NUMBERS),
    st.builds(lambda c, t: _yaml_string(t + c + t), st.sampled_from(CONTROLS),
              st.text(max_size=8)),
    st.sampled_from(["*a", "&a x", "&a [*a]", "&a [*a, *a]", "!!python/object:os.system x",
                     "!!int abc", "!!binary AAAA", "<<: *a", "~", "? x", "{", "]"]),
    st.integers(1, 30).map(lambda n: "[" * n + "1" + "]" * n),
    st.integers(60, 3000).map(lambda n: "[" * n + "]" * n),
    st.integers(60, 3000).map(lambda n: "{a: " * n + "1" + "}" * n),
)

BOMB = "".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 9) if p else 'x'}]\n"
               for p, c in zip(" abcdefgh", "abcdefghi", strict=True))


@st.composite
def hostile_yaml(draw: st.DrawFn) -> str:
    """A real case in YAML with hostile pieces put in at places of its text."""
    case = draw(case_dicts())
    lines = [f"{k}: {json.dumps(v)}" for k, v in case.items()]
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(lines)))
        kind = draw(st.sampled_from(["field", "value", "block", "bomb", "deep_block"]))
        piece = draw(hostile_scalars)
        if kind == "field":
            section = draw(st.sampled_from(["reservoir", "pump", "presentation",
                                            "case_id", "description", "x"]))
            lines.insert(where, f"{section}: {piece}")
        elif kind == "value":
            field = draw(st.sampled_from(["expected_volume_ml", "measured_volume_ml",
                                          "hours_since_refill", "signs", "problems"]))
            lines.insert(where, f"reservoir: {{{field}: {piece}}}")
        elif kind == "block":
            lines.insert(where, f"presentation:\n  problems: [overdose]\n  signs:\n    - {piece}")
        elif kind == "bomb":
            lines.insert(where, BOMB.rstrip("\n"))
        else:
            depth = draw(st.integers(50, 20_000))
            lines.insert(where, "description:\n" + "- " * depth + "x")
    prefix = draw(st.sampled_from(["", "\ufeff", "%YAML 1.1\n---\n", "---\n"]))
    return prefix + "\n".join(lines) + "\n"


@st.composite
def hostile_json(draw: st.DrawFn) -> str:
    """A real case as JSON with hostile pieces: odd numbers, controls, deep nesting, BOM."""
    case = draw(case_dicts())
    text = json.dumps(case)
    kind = draw(st.sampled_from(["number", "control", "deep", "bom", "duplicate", "big"]))
    if kind == "number":
        odd = draw(st.sampled_from(["010", "1" * 5000, "1e400", "NaN", "-Infinity", "0x0c",
                                    '"2_4"', '" 010 "', '"1:30"']))
        text = text[:-1] + f', "reservoir": {{"expected_volume_ml": {odd}}}}}'
    elif kind == "control":
        control = draw(st.sampled_from(CONTROLS))
        text = text[:-1] + f", {json.dumps('case_id')}: {json.dumps('x' + control)}}}"
    elif kind == "deep":
        depth = draw(st.integers(50, 100_000))
        text = text[:-1] + ', "description": ' + "[" * depth + "]" * depth + "}"
    elif kind == "bom":
        text = "\ufeff" + text
    elif kind == "duplicate":
        text = text[:-1] + ', "pump": {}}'
    else:
        n = draw(st.integers(101, 50_000))
        text = text[:-1] + ', "presentation": {"problems": ["overdose"], "signs": [' \
            + ",".join(['"sedation"'] * n) + "]}}"
    return text


def _check(result: dict[str, Any], allowed: tuple[int, ...], what: str) -> None:
    assert result["code"] in allowed, (what, result)
    assert result["cpu"] < CPU_SECONDS, (what, f"{result['cpu']:.2f} s of CPU")
    assert result["peak_mb"] < MEMORY_MB, (what, f"peak {result['peak_mb']:.0f} MB")
    err = result["stderr"]
    assert "Traceback" not in err, (what, err)
    if result["code"] == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("pumpdx: error: "), (what, err)
        assert all(ch == "\t" or ch.isprintable() for ch in lines[0]), (what, lines[0])


# -- the properties ----------------------------------------------------------------------------
@profile(max_examples=EXAMPLES, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])
@given(text=st.one_of(hostile_yaml(), hostile_json()), as_stdin=st.booleans())
def test_assess_survives_hostile_yaml_and_json(text: str, as_stdin: bool, driver: Driver,
                                               workdir: Path) -> None:
    if as_stdin:
        result = driver.run(["assess", "-", "--json"], stdin=text)
    else:
        path = workdir / ("case.json" if text.lstrip("\ufeff").startswith("{") else "case.yaml")
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        result = driver.run(["assess", str(path)])
    _check(result, (0, 2), text[:200])


@profile(max_examples=EXAMPLES, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])
@given(lines=st.lists(hostile_json(), min_size=1, max_size=4))
def test_batch_survives_hostile_lines(lines: list[str], driver: Driver, workdir: Path) -> None:
    source, out = workdir / "cases.jsonl", workdir / "results.jsonl"
    source.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass") + b"\n")
    result = driver.run(["batch", str(source), "--out", str(out), "--jobs", "1", "--quiet"])
    _check(result, (0, 1), lines[0][:200])
    records = out.read_text(encoding="utf-8").splitlines()
    assert len(records) == len(lines)
    for record in records:
        data = json.loads(record)
        assert "decision_id" in data or ("error" in data and "\n" not in data["error"])


@pytest.fixture(scope="module")
def kb_root(workdir: Path) -> Path:
    return make_kb(workdir / "kb")


@profile(max_examples=EXAMPLES // 2, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])
@given(piece=hostile_scalars, where=st.sampled_from(["salience", "title", "where", "file"]))
def test_kb_lint_survives_hostile_rule_files(piece: str, where: str, driver: Driver,
                                             kb_root: Path) -> None:
    rules = kb_root / "rules" / "triage.yaml"
    original = rules.read_text(encoding="utf-8")
    if where == "salience":
        text = original.replace("salience: 100", f"salience: {piece}", 1)
    elif where == "title":
        text = original.replace("title: Withdrawal gets supportive care first",
                                f"title: {piece}", 1)
    elif where == "where":
        text = original.replace("where: {kind: withdrawal}", f"where: {{kind: {piece}}}", 1)
    else:
        text = BOMB + piece + "\n"
    try:
        rules.write_bytes(text.encode("utf-8", "surrogatepass"))
        result = driver.run(["kb", "lint", str(kb_root)])
    finally:
        rules.write_text(original, encoding="utf-8")
    _check(result, (0, 1, 2), text[:200])
