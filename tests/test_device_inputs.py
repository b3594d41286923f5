"""Device-specific findings: a logged alarm or a motor stall the pump cannot have is bad
input (exit code 2, one line naming the place and the allowed values)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pumpdx.cli import main


def _assess(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: dict[str, object]
            ) -> tuple[int, str, str]:
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(case), encoding="utf-8")
    try:
        code = main(["assess", str(path)])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("model", "alarm", "allowed"), [
    ("synchromed_ii", "low_reservoir", "allowed for medtronic: critical, non_critical"),
    ("synchromed_iii", "critical_error", "allowed for medtronic: critical, non_critical"),
    ("prometra", "critical", "allowed for flowonix: low_reservoir, critical_error"),
    ("prometra_ii", "non_critical", "allowed for flowonix: low_reservoir, critical_error"),
    ("medstream", "low_reservoir", "allowed for other: none"),
])
def test_a_logged_alarm_of_another_manufacturer_is_bad_input(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], model: str, alarm: str,
        allowed: str) -> None:
    code, out, err = _assess(tmp_path, capsys, {
        "pump": {"model": model}, "presentation": {"problems": ["alarm"]},
        "interrogation": {"alarms_logged": [alarm]}})
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert f"interrogation.alarms_logged: '{alarm}'" in err and allowed in err


@pytest.mark.parametrize(("model", "alarm"), [
    ("synchromed_ii", "critical"), ("synchromed_ii", "non_critical"),
    ("prometra", "low_reservoir"), ("prometra_ii", "critical_error")])
def test_each_manufacturer_keeps_its_own_logged_alarms(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], model: str, alarm: str) -> None:
    code, _out, err = _assess(tmp_path, capsys, {
        "pump": {"model": model}, "presentation": {"problems": ["alarm"]},
        "interrogation": {"alarms_logged": [alarm]}})
    assert code == 0, err


@pytest.mark.parametrize("stall", ["temporary", "permanent"])
def test_a_prometra_has_no_motor_to_stall(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          stall: str) -> None:
    code, out, err = _assess(tmp_path, capsys, {
        "pump": {"model": "prometra"}, "presentation": {"problems": ["loss_of_therapy"]},
        "interrogation": {"motor_stall": stall}})
    assert code == 2 and out == ""
    assert "interrogation.motor_stall" in err and "valve-gated" in err
