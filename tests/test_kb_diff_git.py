"""`pumpdx kb diff` over git revisions and JSONL registries: the rulebook of REF is taken
from git, every registry line runs on both, the summary counts each conclusion's losses
and gains, changed rules are shown condition by condition, and --fail-on-change fails."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import KB_DIR
from .conftest import run_cli as cli
from .fixtures.minikb import apply_edits, mutated_shipped_kb

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

# The raised-CK rule loses its opioid alternative (a hypothetical edit for the test).
CK_EDIT = {"rules/laboratory.yaml": [(
    "          - fact: drug\n            where: {agent_class: opioid}\n"
    "          - fact: drug\n            where: {agent: ziconotide}\n"
    "    then:\n      - conclude: lab_ck_rise_drug_myopathy",
    "          - fact: drug\n            where: {agent: ziconotide}\n"
    "          - fact: drug\n            where: {agent: baclofen}\n"
    "    then:\n      - conclude: lab_ck_rise_drug_myopathy")]}
CASE = {"pump": {"model": "synchromed_ii", "reservoir_ml": 20},
        "drugs": [{"agent": "morphine", "concentration_mg_per_ml": 10}],
        "presentation": {"problems": ["loss_of_therapy"]}}


def registry(tmp: Path) -> Path:
    lines = [json.dumps({**CASE, "labs": {"ck_elevated": True}}),   # loses the CK warning
             json.dumps(CASE),                                       # unchanged
             '{"pump": {"model": "synchromed_ii"},',                 # not readable
             json.dumps({**CASE, "drugs": [{"agent": "ziconotide"}],
                         "labs": {"ck_elevated": True}})]            # unchanged (ziconotide)
    path = tmp / "registry.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path



def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
                   cwd=cwd, check=True, capture_output=True)


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """A git repository (branch main) whose kb/ is the shipped KB, then the CK edit."""
    kb = mutated_shipped_kb(tmp_path, {})
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "kb")
    git(tmp_path, "commit", "-qm", "kb")
    apply_edits(kb, CK_EDIT)
    git(tmp_path, "commit", "-qam", "edit")
    return tmp_path


def test_registry_summary_by_conclusion_and_fail_on_change(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new = mutated_shipped_kb(tmp_path / "new", CK_EDIT)
    reg = registry(tmp_path)
    scen = KB_DIR / "scenarios" / "laboratory"
    code, out, _ = cli(capsys, "kb", "diff", str(KB_DIR), str(new), "--cases", str(scen),
                       str(reg))
    assert code == 0
    assert "lab_ck_rise_drug_myopathy: lost in 2 cases" in out  # one scenario, one line
    assert "4 lines, 3 assessed on both, 1 with different conclusions, 1 not readable" in out
    assert "- lab_ck_rise_drug_myopathy: 1 line (1)" in out
    assert "- when[1] any: [{fact: drug, where: {agent_class: opioid}}" in out
    code, out, _ = cli(capsys, "kb", "diff", str(KB_DIR), str(new), "--cases", str(reg),
                       "--fail-on-change", "--json")
    assert code == 1
    data = json.loads(out)
    (r,) = data["registries"]
    assert r["changed"] == 1 and r["conclusions"][0]["lost_lines"] == [1]
    assert data["rule_diffs"][0]["rule"] == "lab_ck_drug_myopathy"


def test_no_change_passes_fail_on_change(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    same = mutated_shipped_kb(tmp_path, {})
    code, out, _ = cli(capsys, "kb", "diff", str(KB_DIR), str(same), "--cases",
                       str(registry(tmp_path)), str(KB_DIR / "cases"), "--fail-on-change")
    assert code == 0 and "no case gains or loses a conclusion" in out


def test_base_revision_from_git(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reg = registry(repo)
    code, out, err = cli(capsys, "kb", "diff", "--base", "HEAD~1", "--kb", str(repo / "kb"),
                         "--cases", str(reg), "--fail-on-change", "--jobs", "2")
    assert code == 1, err
    assert "HEAD~1" in out and "lab_ck_rise_drug_myopathy: lost in" in out
    # default base: the merge base with main (HEAD itself here), against the working copy
    code, out, _ = cli(capsys, "kb", "diff", "--kb", str(repo / "kb"), "--cases", str(reg),
                       "--fail-on-change")
    assert code == 0 and "Rulebook changes: none" in out
    apply_edits(repo / "kb", {"rules/laboratory.yaml": [(
        "where: {agent: baclofen}", "where: {agent: hydromorphone}")]})
    code, out, _ = cli(capsys, "kb", "diff", "--kb", str(repo / "kb"), "--cases", str(reg))
    assert code == 0 and "~ rule lab_ck_drug_myopathy" in out


def test_bad_revision_and_no_repository_are_bad_input(
        repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "kb", "diff", "--base", "no-such-branch", "--kb",
                       str(repo / "kb"))
    assert code == 2 and "not a revision" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli(capsys, "kb", "diff", "--base", "--upload-pack=x", "--kb",
                       str(repo / "kb"))
    assert code == 2
    lone = mutated_shipped_kb(tmp_path / "lone", {})
    code, _, err = cli(capsys, "kb", "diff", "--base", "HEAD", "--kb", str(lone))
    assert code == 2 and "git" in err and len(err.strip().splitlines()) == 1


def test_registry_shortcut_gives_the_same_result_as_running_both(tmp_path: Path) -> None:
    """The old rulebook is not run for a line when no differing rule can matter; the
    result must equal running every line on both (a rule edit and a parameter edit,
    over every scenario case as a registry line)."""
    from pumpdx.engine.casesuite import collect_files, load_item
    from pumpdx.engine.registrydiff import diff_registry

    new = mutated_shipped_kb(tmp_path / "new", {
        **CK_EDIT,
        "parameters.yaml": [("  prometra_post_mri_open_valve_aspirate_ml:\n    value: 1.0",
                             "  prometra_post_mri_open_valve_aspirate_ml:\n    value: 1.5")]})
    lines = []
    for path in collect_files([KB_DIR / "scenarios"]):
        item = load_item(path, path.name)
        if item.case is not None:
            lines.append(item.case.model_dump_json(exclude_none=True))
    reg = tmp_path / "scenarios.jsonl"
    reg.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fast = diff_registry(reg, KB_DIR, new)
    full = diff_registry(reg, KB_DIR, new, use_shortcut=False)
    assert fast == full
    assert {c.id for c in fast.conclusions} >= {"lab_ck_rise_drug_myopathy"}
    assert fast.changed > 1
