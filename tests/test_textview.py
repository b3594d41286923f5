"""`pumpdx assess` text: the trace only with --trace, rule ids only with --explain,
colour for urgent actions only on a terminal without NO_COLOR, width of the terminal."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from pumpdx.cli import main
from pumpdx.cli.assess_cmd import terminal_style
from pumpdx.engine.assess import Assessor
from pumpdx.engine.inputs import load_case
from pumpdx.viz.textview import format_assessment

from .conftest import CASES_DIR

CASE = CASES_DIR / "maino_fentanyl_overinfusion.yaml"


def _assess(capsys: pytest.CaptureFixture[str], *flags: str) -> str:
    assert main(["assess", str(CASE), *flags]) == 0
    return capsys.readouterr().out


def test_trace_and_rule_ids_only_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    plain = _assess(capsys)
    assert "REASONING TRACE" not in plain and "ow_overdose_opioid_naloxone" not in plain
    traced = _assess(capsys, "--trace")
    assert "REASONING TRACE" in traced and "#1 " in traced
    explained = _assess(capsys, "--explain")
    assert "rule ow_overdose_opioid_naloxone" in explained and "firing " in explained
    assert "REASONING TRACE" not in explained


def test_background_items_only_with_all(capsys: pytest.CaptureFixture[str]) -> None:
    plain = _assess(capsys)
    assert "background item" in plain and "BACKGROUND" not in plain
    full = _assess(capsys, "--all")
    assert "BACKGROUND" in full and "keep the pump in the differential" in full


def test_colour_marks_urgent_actions(assessor: Assessor) -> None:
    a = assessor.assess(load_case(str(CASE)))
    coloured = format_assessment(a, assessor.kb, color=True)
    urgent = next(line for line in coloured.splitlines() if "naloxone" in line
                  and line.lstrip().startswith("\033[1;31m  1."))
    assert urgent.endswith("\033[0m")
    assert "\033[" not in format_assessment(a, assessor.kb, color=False)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_style_respects_no_color_and_pipes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setattr("shutil.get_terminal_size",
                        lambda fallback=(88, 24): os.terminal_size((132, 40)))
    assert terminal_style(_Terminal()) == (True, 132)
    monkeypatch.setenv("NO_COLOR", "1")
    assert terminal_style(_Terminal()) == (False, 132)
    assert terminal_style(io.StringIO()) == (False, 88)  # a pipe or a file


@pytest.mark.parametrize("width", [50, 120])
def test_width_follows_the_terminal(assessor: Assessor, width: int) -> None:
    a = assessor.assess(load_case(str(CASE)))
    text = format_assessment(a, assessor.kb, width=width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert any(len(line) > width - 12 for line in text.splitlines())


def test_written_assessment_txt_is_complete(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """The file written by --out keeps everything for the record: trace and rule ids."""
    assert main(["assess", str(CASE), "--out", str(tmp_path)]) == 0
    text = (tmp_path / "assessment.txt").read_text(encoding="utf-8")
    assert "NEXT STEP: " in text and "REASONING TRACE" in text and "rule " in text
