"""Progress of `pumpdx batch`: the rate is that of the last seconds (not since the start),
the ETA follows it, a terminal gets one live line and anything else a line every few
seconds; the closing summary gives cases per second."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest

from pumpdx.cli.progress import Progress, RateWindow, clock_text, eta_seconds

from .conftest import run_cli
from .test_batch import _good_cases


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_is_that_of_the_last_window_not_since_the_start() -> None:
    rates = RateWindow(seconds=10)
    done = 0
    for second in range(60):  # a minute at 100 cases/s ...
        done += 100
        rates.add(float(second + 1), done)
    assert rates.rate(60.0) == pytest.approx(100, rel=0.02)
    for second in range(60, 80):  # ... then 20 s at 10 cases/s
        done += 10
        rates.add(float(second + 1), done)
    # since the start it would be 6200 / 80 = 77.5 cases/s; the last 10 s say 10
    assert rates.rate(80.0) == pytest.approx(10, rel=0.02)


def test_rate_falls_to_zero_while_nothing_completes_and_recovers() -> None:
    rates = RateWindow(seconds=10)
    for second in range(1, 21):
        rates.add(float(second), second * 50)
    assert rates.rate(20.0) == pytest.approx(50, rel=0.02)
    assert rates.rate(25.0) == pytest.approx(25, rel=0.05)  # half the window stalled
    assert rates.rate(40.0) == 0  # a stall longer than the window
    rates.add(41.0, 1000 + 30)
    assert rates.rate(41.0) == pytest.approx(3, rel=0.05)  # 30 cases in the last 10 s


def test_rate_window_keeps_a_bounded_number_of_samples() -> None:
    rates = RateWindow(seconds=10)
    for i in range(100_000):
        rates.add(i * 0.001, i)
    assert len(rates._samples) <= 52
    assert rates.rate(99.999) == pytest.approx(1000, rel=0.03)


def test_eta_follows_the_recent_rate() -> None:
    assert eta_seconds(400, 1000, 20.0) == 30.0
    assert eta_seconds(1000, 1000, 20.0) == 0.0
    assert eta_seconds(400, None, 20.0) is None  # stdin: no total
    assert eta_seconds(400, 1000, 0.0) is None  # stalled: unknown, not infinite
    assert eta_seconds(0, 1000, None) is None
    assert [clock_text(s) for s in (7, 123.4, 3723, None)] == ["0:07", "2:03", "1:02:03",
                                                                "--"]


def test_progress_lines_with_a_fake_clock() -> None:
    clock, stream = FakeClock(), io.StringIO()
    progress = Progress(stream, total=1000, live=False, every=5, clock=clock, ticker=False)
    for step in range(1, 31):  # 30 s at 20 cases/s, an error every 100 cases
        clock.now += 1
        progress.update(step * 20, errors=step * 20 // 100)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 6  # one every 5 s
    assert lines[-1] == ("progress: 600/1000 cases (60%), 6 errors, elapsed 0:30, "
                         "20 cases/s (last 10 s), ETA 0:20")
    for _ in range(15):  # the rate drops to 2 cases/s: the ETA grows with it
        clock.now += 1
        progress.update(progress.done + 2, 6)
    assert stream.getvalue().splitlines()[-1].endswith("elapsed 0:45, 2 cases/s (last 10 s), "
                                                       "ETA 3:05")
    progress.close()
    assert "\r" not in stream.getvalue()


def test_live_progress_is_one_line_redrawn() -> None:
    clock, stream = FakeClock(), io.StringIO()
    progress = Progress(stream, total=None, live=True, clock=clock, ticker=False)
    for step in range(1, 11):
        clock.now += 0.5
        progress.update(step * 5)
    progress.close()
    text = stream.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")
    assert text.count("\r") == 11  # ten updates and the final one
    assert "\r50 cases, 0 errors, 0:05 elapsed, 10 cases/s, ETA --" in text


def test_batch_not_on_a_terminal_prints_progress_lines(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    """cron or CI: whole progress lines on stderr (no carriage returns), then the summary
    with cases per second; the results are unchanged."""
    cases = _good_cases() * 3
    source, out = tmp_path / "cases.jsonl", tmp_path / "results.jsonl"
    source.write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
    assert not sys.stderr.isatty()
    code, stdout, stderr = run_cli(capsys, "batch", str(source), "--out", str(out),
                                   "--jobs", "1", "--progress-every", "0.001")
    assert code == 0
    lines = stderr.splitlines()
    assert len(lines) >= 2 and "\r" not in stderr
    pattern = (r"progress: \d+/" + str(len(cases)) + r" cases \(\d+%\), 0 errors, "
               r"elapsed \d+:\d\d, [\d,]+ cases/s \(last 10 s\), ETA (\d+:\d\d|--)")
    assert all(re.fullmatch(pattern, line) for line in lines), lines
    assert re.search(r"^" + str(len(cases)) + r" cases in [\d.]+ s, [\d,]+ cases/s "
                     r"\(1 worker\)", stdout, re.M)
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(cases)

    code, _out, err = run_cli(capsys, "batch", str(source), "--out", str(out),
                              "--progress-every", "0")
    assert code == 2 and err.startswith("pumpdx: error: ") and len(err.splitlines()) == 1
