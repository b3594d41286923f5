"""`pumpdx batch` and engine/batch.py: every input line accounted for, in order; a bad
case never stops the batch; output written atomically; one engine per process; memory
stays flat; shards of a registry (as a Dask or Ray map would run them) give the same
output as one run."""

from __future__ import annotations

import importlib
import io
import json
import os
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from pumpdx.cli import main
from pumpdx.engine import batch as batch_module
from pumpdx.engine.assess import Assessor
from pumpdx.engine.assessment import Assessment
from pumpdx.engine.batch import BatchSummary, read_lines, run_batch
from pumpdx.engine.inputs import MAX_INPUT_BYTES, load_case
from pumpdx.kb.loader import default_kb_dir

from .conftest import CASES_DIR


def _good_cases() -> list[dict[str, Any]]:
    return [load_case(str(p)).model_dump(mode="json", exclude_none=True)
            for p in sorted(CASES_DIR.glob("*.yaml"))]


BAD: list[tuple[bytes, str]] = [
    (b'{"pump": {"model": "synchromed_ii"}, "presentation": {', "malformed JSON"),
    (b"", "empty line"),
    (b'{"pump": {"model": "synchromed_ii"}, "presentation": {"problems": ["overdose"]}, '
     b'"reservoir": {"measured_volume_cc": 5}}', "unknown field 'measured_volume_cc'"),
    (b'{"pump": {"model": "synchromed_ii"}, "presentation": {"problems": ["overdose"]}, '
     b'"drugs": [{"agent": "oxycodone"}]}', "drugs[0].agent"),
    (b'{"pump": {"model": "synchromed_ii"}, "presentation": {"problems": ["overdose"]}, '
     b'"reservoir": {"measured_volume_ml": -3}}', "greater than or equal to 0"),
    (b"[1, 2]", "expected a mapping"),
    (b"\x00\x01\x02", "binary data"),
    (b"\xff\xfe caf\xe9", "not UTF-8"),
    (b'{"a": 1, "a": 2}', "duplicate key 'a'"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
]


def _write_mixed(path: Path) -> list[tuple[int, str | None]]:
    """Good and bad lines interleaved; returns (line, expected error or None) per line."""
    good = _good_cases()
    rows: list[bytes] = []
    expect: list[tuple[int, str | None]] = []
    for i in range(max(len(good), len(BAD))):
        if i < len(good):
            rows.append(json.dumps(good[i]).encode())
            expect.append((len(rows), None))
        if i < len(BAD):
            rows.append(BAD[i][0])
            expect.append((len(rows), BAD[i][1]))
    rows.append(b'{"x": "' + b"y" * (MAX_INPUT_BYTES + 10) + b'"}')
    expect.append((len(rows), f"larger than {MAX_INPUT_BYTES} bytes"))
    rows.append(json.dumps(good[0]).encode())  # last line without a newline
    expect.append((len(rows), None))
    path.write_bytes(b"\n".join(rows))
    return expect


def _check_results(out: Path, expect: list[tuple[int, str | None]]) -> None:
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(expect), "one output line for every input line"
    for text, (number, error) in zip(lines, expect, strict=True):
        record = json.loads(text)
        if error is None:
            assessment = Assessment.model_validate(record)
            assert assessment.conclusions or assessment.questions
        else:
            assert record["line"] == number
            assert record["error"].startswith(f"line {number}")
            assert error in record["error"], record["error"]


def test_every_line_accounted_for_in_order(tmp_path: Path, assessor: Assessor) -> None:
    source, out = tmp_path / "cases.jsonl", tmp_path / "results.jsonl"
    expect = _write_mixed(source)
    summary = run_batch(source, out, assessor=assessor)
    _check_results(out, expect)
    bad = sum(1 for _n, e in expect if e is not None)
    assert (summary.lines, summary.input_errors, summary.internal_errors) == (len(expect), bad, 0)
    assert summary.assessed == len(expect) - bad
    assert sum(summary.conclusions.values()) > 0
    # the assessments are those of the cases alone
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    alone = assessor.assess(load_case(str(sorted(CASES_DIR.glob("*.yaml"))[0])))
    assert first == json.loads(alone.model_dump_json())


def test_cli_summary_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, out = tmp_path / "cases.jsonl", tmp_path / "results.jsonl"
    expect = _write_mixed(source)
    with pytest.raises(SystemExit) as exit_info:
        sys.exit(main(["batch", str(source), "--out", str(out)]))
    captured = capsys.readouterr()
    assert exit_info.value.code == 1  # some lines are error records; the file is complete
    _check_results(out, expect)
    bad = sum(1 for _n, e in expect if e is not None)
    assert f"{len(expect)} cases" in captured.out and f"{bad} errors" in captured.out
    assert "conclusions by kind:" in captured.out and "urgent_action" in captured.out
    err = captured.err.splitlines()
    assert len(err) == 1 and err[0].startswith("pumpdx: error: ")  # no tty: lines every 10 s

    good = tmp_path / "good.jsonl"
    good.write_text("".join(json.dumps(c) + "\n" for c in _good_cases()), encoding="utf-8")
    assert main(["batch", str(good), "--out", str(tmp_path / "good-out.jsonl"), "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("problem", ["missing input", "output is a folder", "broken KB",
                                     "jobs 0"])
def test_batch_that_cannot_run_writes_nothing(problem: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    source, out = tmp_path / "cases.jsonl", tmp_path / "results" / "r.jsonl"
    source.write_text(json.dumps(_good_cases()[0]) + "\n", encoding="utf-8")
    argv = ["batch", str(source), "--out", str(out)]
    if problem == "missing input":
        argv[1] = str(tmp_path / "nope.jsonl")
    elif problem == "output is a folder":
        out.mkdir(parents=True)
        argv[3] = str(out)
    elif problem == "broken KB":
        kb = tmp_path / "kb"
        shutil.copytree(default_kb_dir(), kb, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
        rule_file = sorted((kb / "rules").glob("*.yaml"))[0]
        rule_file.write_text(rule_file.read_text() + "\n  - id: [broken\n")
        argv += ["--kb", str(kb)]
    else:
        argv += ["--jobs", "0"]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("pumpdx: error: ")
    assert not (out.is_file() or (out.is_dir() and any(out.iterdir())))


def test_interrupted_batch_leaves_no_results_file(tmp_path: Path, assessor: Assessor) -> None:
    """A crash half-way: no results file, an older one untouched, no temporary files."""
    source, out = tmp_path / "cases.jsonl", tmp_path / "results.jsonl"
    source.write_text("".join(json.dumps(c) + "\n" for c in _good_cases()), encoding="utf-8")
    out.write_text("previous results\n", encoding="utf-8")

    def crash(summary: BatchSummary) -> None:
        if summary.lines == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(source, out, assessor=assessor, progress=crash)
    assert out.read_text(encoding="utf-8") == "previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.jsonl", "results.jsonl"]


def test_internal_error_in_one_case_is_recorded(tmp_path: Path, assessor: Assessor,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    cases = _good_cases()
    source, out = tmp_path / "cases.jsonl", tmp_path / "results.jsonl"
    source.write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
    real = Assessor.assess

    def flaky(self: Assessor, case: Any) -> Assessment:
        if case.case_id == cases[1]["case_id"]:
            raise RuntimeError("engine exploded\nsecond line")
        return real(self, case)

    monkeypatch.setattr(Assessor, "assess", flaky)
    monkeypatch.setattr(batch_module, "default_assessor", lambda kb_dir=None: assessor)
    code = main(["batch", str(source), "--out", str(out)])
    assert code == 3
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(cases)
    assert json.loads(lines[1]) == {
        "line": 2, "error": "line 2: internal error: RuntimeError: engine exploded"}
    assert all("decision_id" in json.loads(x) for i, x in enumerate(lines) if i != 1)
    assert "1 internal" in capsys.readouterr().out


@pytest.fixture(scope="module")
def kb_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A snapshot of the knowledge base, so that worker processes started later load the
    same one as this process (the shipped KB may be edited while the tests run)."""
    target = tmp_path_factory.mktemp("kb") / "kb"
    shutil.copytree(default_kb_dir(), target,
                    ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def test_two_workers_give_the_same_output(tmp_path: Path, kb_copy: Path) -> None:
    source = tmp_path / "cases.jsonl"
    expect = _write_mixed(source)
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    run_batch(source, one, kb_dir=kb_copy)
    summary = run_batch(source, two, jobs=2, kb_dir=kb_copy, chunk_size=3)
    assert two.read_bytes() == one.read_bytes()
    assert summary.lines == len(expect)


def test_one_engine_per_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """assess_lines (what each worker runs) builds the engine once, not per case."""
    assess_module = importlib.import_module("pumpdx.engine.assess")  # not the function
    built: list[int] = []
    real_build = assess_module.build_engine

    def counting_build(kb: Any) -> Any:
        built.append(1)
        return real_build(kb)

    monkeypatch.setattr(assess_module, "build_engine", counting_build)
    monkeypatch.setattr(assess_module, "_DEFAULT", {})
    lines = [(i, json.dumps(c).encode()) for i, c in enumerate(_good_cases() * 3, 1)]
    results = batch_module.assess_lines(lines[:10]) + batch_module.assess_lines(lines[10:])
    assert len(results) == len(lines) and all(r.error is None for r in results)
    assert len(built) == 1


def test_read_lines_keeps_long_lines_out_of_memory() -> None:
    data = b"a\n" + b"x" * (3 * MAX_INPUT_BYTES) + b"\nb\r\nc"
    assert list(read_lines(io.BytesIO(data), first_line=5)) == [
        (5, b"a"), (6, None), (7, b"b"), (8, b"c")]


def test_live_progress_only_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    source = tmp_path / "cases.jsonl"
    source.write_text("".join(json.dumps(c) + "\n" for c in _good_cases()), encoding="utf-8")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["batch", str(source), "--out", str(tmp_path / "r.jsonl")]) == 0
    drawn = terminal.getvalue()
    assert f"] {len(_good_cases())}/{len(_good_cases())} (100%)" in drawn and "\r" in drawn
    assert "cases/s, ETA" in drawn


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc (Linux)")
def test_memory_stays_flat(assessor: Assessor) -> None:
    """1,000 distinct cases on one engine after a warm-up: resident memory grows < 5 MB.

    (The benchmark, bench/bench.py --full, measures 10,000.)
    """
    from pumpdx.kb.facts import Case

    base = _good_cases()

    def case(i: int) -> Case:
        data = base[i % len(base)]
        presentation = {**data["presentation"], "onset_hours_after_refill": i / 10}
        return Case.model_validate({**data, "case_id": f"run-{i}",
                                    "presentation": presentation})

    for i in range(200):
        assessor.assess(case(i))
    before = _rss_mb()
    for i in range(200, 1200):
        assessor.assess(case(i))
    growth = _rss_mb() - before
    assert growth < 5.0, f"resident memory grew {growth:.1f} MB over 1,000 cases"


def _shard(args: tuple[str, str, int, str]) -> str:
    source, out, first_line, kb_dir = args
    run_batch(source, out, kb_dir=kb_dir, first_line=first_line)  # this worker's engine
    return out


def test_shards_on_a_process_pool_match_one_run(tmp_path: Path, kb_copy: Path) -> None:
    """The recipe of docs/batch.md for a registry that outgrows one machine: split the
    JSONL, map run_batch over the shards (here a local process pool stands in for
    Dask or Ray), concatenate in order. Same bytes as one run, line numbers included."""
    source = tmp_path / "cases.jsonl"
    _write_mixed(source)
    whole = tmp_path / "whole.jsonl"
    run_batch(source, whole, kb_dir=kb_copy)
    lines = source.read_bytes().split(b"\n")
    shards, first = [], 1
    for k, size in enumerate((5, 7, len(lines))):
        part = lines[first - 1:first - 1 + size]
        if not part:
            break
        path = tmp_path / f"shard-{k}.jsonl"
        path.write_bytes(b"\n".join(part) + b"\n")
        shards.append((str(path), str(tmp_path / f"shard-{k}.out.jsonl"), first, str(kb_copy)))
        first += len(part)
    import multiprocessing

    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        outs = list(pool.map(_shard, shards))
    joined = b"".join(Path(o).read_bytes() for o in outs)
    assert joined == whole.read_bytes()
