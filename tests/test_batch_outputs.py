"""Where batch results and assessment folders go, and what a killed batch leaves (issue 10).

- Results to a device, a FIFO, a symlink to one, or `-` are written through (a
  regular file is replaced atomically, a symlink to one replaced, never followed).
- A batch killed by SIGINT, SIGTERM or SIGKILL, with one worker or two, leaves no
  temporary file, no worker process, and the older results file as it was.
- Output files are created 0600; `--out ""` is an error; --jobs is bounded.
- The files of one assessment (`assess --out DIR`) are replaced as a whole; a Graphviz
  failure writes nothing and exits non-zero.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pumpdx.cli import main
from pumpdx.cli.batch_cmd import MAX_JOBS_PER_CPU, cpu_count
from pumpdx.engine.inputs import load_case
from pumpdx.engine.outputs import TEMP_SUFFIX

from .conftest import CASES_DIR

CASE = str(CASES_DIR / "maino_fentanyl_overinfusion.yaml")


def _cases(count: int) -> str:
    cases = [json.dumps(load_case(str(p)).model_dump(mode="json", exclude_none=True))
             for p in sorted(CASES_DIR.glob("*.yaml"))]
    return "".join(cases[i % len(cases)] + "\n" for i in range(count))


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if TEMP_SUFFIX in p.name
                  or p.name.endswith(".tmp"))


# -- where results go ---------------------------------------------------------------------
def test_results_to_dev_null_and_a_symlink_to_it_are_written_through(tmp_path: Path) -> None:
    source = tmp_path / "cases.jsonl"
    source.write_text(_cases(3))
    link = tmp_path / "null-link"
    link.symlink_to("/dev/null")
    for target in ("/dev/null", str(link)):
        assert main(["batch", str(source), "--out", target, "--quiet"]) == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert link.is_symlink() and os.readlink(link) == "/dev/null"
    assert _temporaries(tmp_path) == []


def test_results_stream_to_stdout_with_the_summary_on_stderr(tmp_path: Path) -> None:
    source = tmp_path / "cases.jsonl"
    source.write_text(_cases(3))
    for out in ("-", "/dev/stdout"):
        proc = subprocess.run([sys.executable, "-m", "pumpdx", "batch", str(source),
                               "--out", out], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        lines = proc.stdout.splitlines()
        assert len(lines) == 3 and all("decision_id" in json.loads(x) for x in lines)
        assert "3 cases in" in proc.stderr


def test_results_to_a_fifo_are_written_through(tmp_path: Path) -> None:
    source, fifo = tmp_path / "cases.jsonl", tmp_path / "results.fifo"
    source.write_text(_cases(2))
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as handle:
            received.append(handle.read())

    reader = threading.Thread(target=read)
    reader.start()
    assert main(["batch", str(source), "--out", str(fifo), "--quiet"]) == 0
    reader.join(timeout=30)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert len(received[0].splitlines()) == 2


def test_a_symlink_to_a_regular_file_is_replaced_not_followed(tmp_path: Path) -> None:
    source, victim, link = tmp_path / "cases.jsonl", tmp_path / "victim", tmp_path / "r.jsonl"
    source.write_text(_cases(1))
    victim.write_text("untouched")
    link.symlink_to(victim)
    assert main(["batch", str(source), "--out", str(link), "--quiet"]) == 0
    assert victim.read_text() == "untouched" and not link.is_symlink()


def test_outputs_holding_clinical_data_are_private(tmp_path: Path) -> None:
    source = tmp_path / "cases.jsonl"
    source.write_text(_cases(1))
    old_umask = os.umask(0o022)
    try:
        assert main(["batch", str(source), "--out", str(tmp_path / "r.jsonl"), "--quiet"]) == 0
        assert main(["assess", CASE, "--out", str(tmp_path / "a")]) == 0
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(os.stat(tmp_path / "r.jsonl").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "a").st_mode) == 0o700
    for path in (tmp_path / "a").iterdir():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path.name


@pytest.mark.parametrize("argv", [["batch", "x.jsonl", "--out", ""],
                                  ["assess", CASE, "--out", ""],
                                  ["batch", "x.jsonl", "--out", "r", "--jobs", "0"],
                                  ["batch", "x.jsonl", "--out", "r", "--jobs",
                                   str(MAX_JOBS_PER_CPU * cpu_count() + 1)],
                                  ["batch", "x.jsonl", "--out", "r", "--jobs", "9" * 5000]])
def test_empty_output_paths_and_unbounded_jobs_are_refused(
        argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("pumpdx: error: ")
    assert list(tmp_path.iterdir()) == []


def test_jobs_above_the_cpu_count_warn(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    source = tmp_path / "cases.jsonl"
    source.write_text(_cases(2))
    jobs = cpu_count() + 1
    assert main(["batch", str(source), "--out", str(tmp_path / "r"), "--jobs", str(jobs),
                 "--quiet"]) == 0
    assert f"--jobs {jobs} is more than the {cpu_count()} CPUs" in capsys.readouterr().err


# -- killed batches ---------------------------------------------------------------------------
def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture(scope="module")
def big_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kill") / "cases.jsonl"
    path.write_text(_cases(20_000))
    return path


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_a_killed_batch_leaves_no_temporary_file_no_worker_and_the_old_results(
        sig: signal.Signals, jobs: int, big_input: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    out.write_text("old results\n")
    proc = subprocess.Popen([sys.executable, "-m", "pumpdx", "batch", str(big_input),
                             "--out", str(out), "--jobs", str(jobs), "--quiet"],
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        workers: set[int] = set()
        deadline = time.monotonic() + 60
        # wait until the batch is under way: its workers are up (or, in-process, a while)
        while time.monotonic() < deadline and proc.poll() is None:
            workers = _children(proc.pid)
            if jobs == 1 or len(workers) >= jobs:
                break
            time.sleep(0.1)
        time.sleep(2.5)
        assert proc.poll() is None, "the batch ended before it could be killed"
        workers = _children(proc.pid)
        os.kill(proc.pid, sig)
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read() if proc.stderr else ""
    if sig != signal.SIGKILL:
        assert code == 3 and err.count("\n") == 1, err
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [w for w in workers if _alive(w)], "orphaned workers"
    assert out.read_text() == "old results\n"
    assert _temporaries(tmp_path) == []


def test_a_temporary_file_of_a_killed_process_is_removed_by_the_next_run(tmp_path: Path
                                                                         ) -> None:
    """Where the system has no nameless files, a named one is left by SIGKILL: the next
    run writing beside it removes it (the pid in its name is no longer alive)."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    stale = tmp_path / f".r.jsonl.{dead}.abcd{TEMP_SUFFIX}"
    stale.write_text("half")
    live = tmp_path / f".r.jsonl.{os.getpid()}.abcd{TEMP_SUFFIX}"
    live.write_text("being written")
    source = tmp_path / "cases.jsonl"
    source.write_text(_cases(1))
    assert main(["batch", str(source), "--out", str(tmp_path / "r.jsonl"), "--quiet"]) == 0
    assert not stale.exists() and live.exists()


# -- the files of one assessment --------------------------------------------------------------
def test_an_assessment_folder_is_replaced_as_a_whole(tmp_path: Path) -> None:
    out = tmp_path / "a"
    assert main(["assess", CASE, "--out", str(out), "--graph-format", "png"]) == 0
    first = json.loads((out / "assessment.json").read_text())["decision_id"]
    other = str(CASES_DIR / "taha_residual_volume_withdrawal.yaml")
    assert main(["assess", other, "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert "reasoning.png" not in names  # the older decision's file is gone
    second = json.loads((out / "assessment.json").read_text())["decision_id"]
    assert second != first
    assert second[3:] in (out / "assessment.txt").read_text()
    assert _temporaries(tmp_path) == []


def test_a_folder_with_other_files_is_not_deleted(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_text("precious")
    with pytest.raises(SystemExit) as info:
        main(["assess", CASE, "--out", str(out)])
    assert info.value.code == 2
    assert "holds files that are not outputs of an assessment (thesis.docx)" in \
        capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["thesis.docx"]


def test_a_graphviz_failure_writes_nothing_and_fails(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    fake.write_text("#!/bin/sh\necho 'Error: syntax error in line 1' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    out = tmp_path / "a"
    with pytest.raises(SystemExit) as info:
        main(["assess", CASE, "--out", str(out)])
    assert info.value.code == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Graphviz dot failed" in err
    assert not out.exists()
