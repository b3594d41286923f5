"""`pumpdx kb lint`: every mistake in a rule file is reported with its exact file, line and
rule id, all of them in one run; the semantic checks each catch their mistake on a small
broken copy of the fixture knowledge base (tests/fixtures/mini_kb)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from pumpdx.cli import main
from pumpdx.cli.kb_lint_cmd import lint_dir
from pumpdx.kb import calculations
from pumpdx.kb.calculations import Derived
from pumpdx.kb.issues import KBIssue, KBLoadError
from pumpdx.kb.lint import lint_kb
from pumpdx.kb.loader import load_kb

from .fixtures.minikb import make_kb

RULES = "rules/volume_check.yaml"
SHOWN = f"mini_kb/{RULES}"
HIGHER_CITE = 'cite: [{section: "7.3", quote: "higher than expected or as expected is recorded"}]'


def line_of(root: Path, rel: str, text: str, after: str = "") -> int:
    """1-based line of the first line containing `text` (after the line containing `after`)."""
    lines = (root / rel).read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines[start:], start + 1) if text in line)


def issues_of(root: Path) -> list[KBIssue]:
    _version, issues, _quotes = lint_dir(root)
    return issues


def semantic(root: Path) -> list[KBIssue]:
    """Semantic issues, without the fact types the tiny fixture never reads on purpose."""
    return [i for i in lint_kb(load_kb(root)) if not i.file.endswith("registry.py")]


def broken(tmp_path: Path, edits: Mapping[str, Sequence[tuple[str, str]]] | None = None,
           files: Mapping[str, str] | None = None) -> Path:
    return make_kb(tmp_path, edits=edits, files=files)


# -- the fixture is clean ----------------------------------------------------------
def test_fixture_kb_lints_clean_apart_from_fact_types_it_does_not_use(tmp_path: Path) -> None:
    root = make_kb(tmp_path)
    assert semantic(root) == []
    unread = [i for i in lint_kb(load_kb(root)) if i.file.endswith("registry.py")]
    assert {i.check for i in unread} == {"unread_fact"}
    assert "no rule reads 'reservoir' facts" not in {i.message for i in unread}
    assert "no rule reads 'drug' facts" in {i.message for i in unread}


# -- load errors: exact file, line and rule id, all in one run -------------------------
def test_typo_in_a_field_name_names_file_line_and_rule(tmp_path: Path) -> None:
    root = broken(tmp_path, {RULES: [("where: {measured_volume_ml: {le:",
                                      "where: {measured_volum_ml: {le:")]})
    [issue] = issues_of(root)
    assert (issue.file, issue.line, issue.rule_id) == (
        SHOWN, line_of(root, RULES, "measured_volum_ml"), "vc_nearly_empty")
    assert "unknown field 'measured_volum_ml' of 'reservoir'" in issue.message
    assert "measured_volume_ml" in issue.message  # the allowed fields are listed


def test_missing_citation_names_the_rule(tmp_path: Path) -> None:
    root = broken(tmp_path, {RULES: [(
        '    ' + HIGHER_CITE + '\n    branch: "Step 3: volume higher',
        '    branch: "Step 3: volume higher')]})
    [issue] = [i for i in issues_of(root) if i.file == SHOWN]
    assert (issue.file, issue.line, issue.rule_id) == (
        SHOWN, line_of(root, RULES, "id: vc_higher"), "vc_higher")
    assert "cite" in issue.message and "required" in issue.message.lower()


def test_unknown_concept_names_the_line_of_the_action(tmp_path: Path) -> None:
    root = broken(tmp_path, {RULES: [("conclude: volume_higher", "conclude: volume_highr")]})
    [issue] = issues_of(root)
    assert (issue.file, issue.line, issue.rule_id) == (
        SHOWN, line_of(root, RULES, "volume_highr"), "vc_higher")
    assert "unknown concept 'volume_highr'" in issue.message


@pytest.mark.parametrize(("old", "new", "rule", "message"), [
    ("fact: volume_discrepancy\n        where: {direction: higher}",
     "fact: volume_discrepncy\n        where: {direction: higher}",
     "vc_higher", "unknown fact type 'volume_discrepncy'"),
    ("{le: {param: low_reservoir_alarm_ml}}", "{lte: {param: low_reservoir_alarm_ml}}",
     "vc_nearly_empty", "unknown operator 'lte' (did you mean 'lt' or 'le'?)"),
    ("{le: {param: low_reservoir_alarm_ml}}", "{le: {param: low_reservoir_alarm}}",
     "vc_nearly_empty", "unknown parameter 'low_reservoir_alarm'"),
    ("where: {direction: higher}", "where: {direction: upward}",
     "vc_higher", "volume_discrepancy.direction = 'upward' is not allowed"),
    (HIGHER_CITE + '\n    branch: "Step 3: volume higher',
     HIGHER_CITE.replace('"7.3"', '"7.7"') + '\n    branch: "Step 3: volume higher',
     "vc_higher", "section '7.7' does not exist in review"),
    ("  - id: vc_higher", "  - id: vc_lower", "vc_lower", "duplicate rule id"),
])
def test_each_schema_error_is_reported_on_its_rule(tmp_path: Path, old: str, new: str,
                                                   rule: str, message: str) -> None:
    root = broken(tmp_path, {RULES: [(old, new)]})
    issues = [i for i in issues_of(root) if i.file == SHOWN]
    assert [i.rule_id for i in issues] == [rule], issues
    assert message in issues[0].message
    lines = (root / RULES).read_text(encoding="utf-8").splitlines()
    wanted = new.splitlines()[0].strip()
    assert issues[0].line == max(n for n, text in enumerate(lines, 1) if wanted in text)


def test_all_errors_of_all_files_in_one_run(tmp_path: Path) -> None:
    root = broken(tmp_path, {
        RULES: [("where: {measured_volume_ml: {le:", "where: {measured_volum_ml: {le:"),
                ("conclude: volume_higher", "conclude: volume_highr")],
        "rules/triage.yaml": [('    cite: [{section: "7.1", quote: "Withdrawal needs supportive '
                               'care first"}]\n    salience: 100',
                               "    salience: 100")],
    })
    issues = issues_of(root)
    assert [(i.file, i.rule_id) for i in issues] == [
        ("mini_kb/rules/triage.yaml", "triage_withdrawal"),
        (SHOWN, "vc_higher"), (SHOWN, "vc_nearly_empty")]


def test_cli_prints_file_line_rule_message_and_exits_1(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    root = broken(tmp_path, {RULES: [("conclude: volume_higher", "conclude: volume_highr"),
                                     ("where: {measured_volume_ml: {le:",
                                      "where: {measured_volum_ml: {le:")]})
    assert main(["kb", "lint", str(root)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{SHOWN}:{line_of(root, RULES, 'volume_highr')}: vc_higher: "
                             "unknown concept 'volume_highr'")
    assert out[1].startswith(f"{SHOWN}:{line_of(root, RULES, 'measured_volum_ml')}: "
                             "vc_nearly_empty: unknown field 'measured_volum_ml'")
    assert "2 load error(s)" in out[2]


def test_cli_json_and_clean_exit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    root = broken(tmp_path, {RULES: [("conclude: volume_higher", "conclude: volume_highr")]})
    assert main(["kb", "lint", str(root), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["loads"] is False
    assert data["issues"][0]["rule_id"] == "vc_higher"


def test_missing_kb_folder_is_bad_input(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["kb", "lint", str(tmp_path / "nowhere")])
    assert exc.value.code == 2
    assert "knowledge-base folder not found" in capsys.readouterr().err


# -- semantic checks -----------------------------------------------------------------
NEW_RULE = """
  - id: {id}
    title: A rule added by the test
    cite: [{{section: "7.3"}}]
    when:
{when}
    then:
{then}
"""


def add_rule(rule_id: str, when: str, then: str = "      - conclude: volume_higher") -> str:
    return NEW_RULE.format(id=rule_id, when=when, then=then)


def rules_text(root: Path) -> str:
    return (root / RULES).read_text(encoding="utf-8")


def with_rules(tmp_path: Path, *extra: str, name: str = "mini_kb") -> Path:
    root = make_kb(tmp_path, name)
    (root / RULES).write_text(rules_text(root) + "".join(extra), encoding="utf-8")
    return root


def test_rule_needing_a_conclusion_nobody_draws_never_fires(tmp_path: Path) -> None:
    root = make_kb(tmp_path, edits={"concepts/mini.yaml": [(
        "  - id: volume_higher\n",
        "  - id: pump_stall\n    kind: suspected_cause\n    text: Stall (fixture).\n"
        '    cite: [{section: "5.1"}]\n  - id: volume_higher\n')]})
    (root / RULES).write_text(rules_text(root) + add_rule(
        "after_stall", "      - fact: conclusion\n        where: {id: pump_stall}"),
        encoding="utf-8")
    issues = semantic(root)
    fires = [i for i in issues if i.check == "never_fires"]
    assert [(i.rule_id, i.line) for i in fires] == [
        ("after_stall", line_of(root, RULES, "fact: conclusion", after="id: after_stall"))]
    assert "{id: pump_stall}" in fires[0].message
    assert "no input, rule or calculation produces" in fires[0].message
    # ... and the concept nobody concludes is reported at its catalog entry
    unused = [i for i in issues if i.check == "unused_concept"]
    assert [(i.rule_id, i.file, i.line) for i in unused] == [
        ("pump_stall", "mini_kb/concepts/mini.yaml",
         line_of(root, "concepts/mini.yaml", "id: pump_stall"))]


def test_never_fires_follows_chains_and_declared_values(tmp_path: Path) -> None:
    root = with_rules(
        tmp_path,
        # only a `calculated` expected volume would do, and no rule or calculation gives one
        add_rule("needs_calculated", "      - fact: expected_volume\n"
                 "        where: {source: calculated}",
                 "      - conclude: suspected_overinfusion"),
        # needs the conclusion of a rule that never fires
        add_rule("chained", "      - fact: conclusion\n        where: {id: suspected_overinfusion}"
                 "\n      - fact: expected_volume\n        where: {source: calculated}"),
    )
    fires = {i.rule_id: i.message for i in semantic(root) if i.check == "never_fires"}
    assert set(fires) == {"needs_calculated", "chained"}
    assert "{source: calculated}" in fires["needs_calculated"]
    # vc_lower also concludes suspected_overinfusion, so `chained` fails on its second condition
    assert "condition 2" in fires["chained"]


def test_rule_fed_only_by_a_dead_rule_names_it(tmp_path: Path) -> None:
    root = with_rules(
        tmp_path,
        add_rule("dead", "      - fact: expected_volume\n        where: {source: calculated}",
                 "      - conclude: reservoir_nearly_empty\n"
                 "      - declare: {fact: expected_volume,\n"
                 "                  with: {volume_ml: 1, source: calculated}}"),
        add_rule("fed_by_dead", "      - fact: expected_volume\n        where: {source: calculated}"
                 "\n      - fact: pump"),
    )
    fires = {i.rule_id: i.message for i in semantic(root) if i.check == "never_fires"}
    assert set(fires) == {"dead", "fed_by_dead"}  # `dead` needs its own output
    assert "only rules that can never fire produce one (dead)" in fires["fed_by_dead"]


def test_rules_that_can_fire_are_not_reported(tmp_path: Path) -> None:
    root = with_rules(
        tmp_path,
        # a calculation can give any direction; an `any` needs only one live alternative;
        # drug facts carry the classes of drugs.yaml
        add_rule("calc_output", "      - fact: volume_discrepancy\n"
                 "        where: {consequential: true, threshold_basis: extrapolated}"),
        add_rule("one_alternative", "      - any:\n"
                 "          - fact: conclusion\n            where: {id: pump_stall_never}\n"
                 "          - fact: conclusion\n            where: {id: volume_lower}"),
        add_rule("drug_class", "      - fact: drug\n        where: {agent_class: opioid}"),
    )
    text = rules_text(root).replace("{id: pump_stall_never}", "{id: refill_reservoir}")
    (root / RULES).write_text(text, encoding="utf-8")
    assert [i for i in semantic(root) if i.check == "never_fires"] == []


def test_drug_value_absent_from_the_catalog_never_fires(tmp_path: Path) -> None:
    root = with_rules(tmp_path, add_rule(
        "lipophilic_morphine", "      - fact: drug\n"
        "        where: {agent: morphine, agent_class: non_opioid}"))
    fires = [i for i in semantic(root) if i.check == "never_fires"]
    assert [i.rule_id for i in fires] == ["lipophilic_morphine"]


def test_handover_nobody_reads(tmp_path: Path) -> None:
    root = with_rules(tmp_path, add_rule(
        "back_to_triage", "      - fact: volume_discrepancy\n        where: {direction: none}",
        "      - handover: triage"))
    unread = [i for i in semantic(root) if i.check == "unread_fact"]
    assert [(i.rule_id, i.line) for i in unread] == [
        ("back_to_triage", line_of(root, RULES, "handover: triage"))]
    assert "hands over to 'triage'" in unread[0].message


def test_declared_fact_nobody_reads(tmp_path: Path) -> None:
    root = with_rules(tmp_path, add_rule(
        "catheter_volume_from_report", "      - fact: reservoir\n"
        "        where: {expected_volume_ml: $v}",
        "      - declare: {fact: catheter_volume, with: {volume_ml: $v, source: report}}"))
    unread = [i for i in lint_kb(load_kb(root)) if i.check == "unread_fact"
              and "catheter_volume" in i.message]
    assert [(i.file, i.rule_id) for i in unread] == [(SHOWN, "catheter_volume_from_report")]


def test_two_rules_with_the_same_conditions(tmp_path: Path) -> None:
    root = with_rules(tmp_path, add_rule(
        "vc_lower_copy", "      - fact: volume_discrepancy\n        where: {direction: lower}",
        "      - conclude: document_me"))
    text = rules_text(root).replace("conclude: document_me", "conclude: reservoir_nearly_empty")
    (root / RULES).write_text(text, encoding="utf-8")
    dup = [i for i in semantic(root) if i.check == "duplicate_conditions"]
    assert [(i.rule_id, i.line) for i in dup] == [
        ("vc_lower_copy", line_of(root, RULES, "id: vc_lower_copy"))]
    assert "vc_lower" in dup[0].message


def test_same_conditions_in_another_order_are_duplicates_too(tmp_path: Path) -> None:
    root = with_rules(tmp_path, add_rule(
        "nearly_empty_copy", "      - fact: reservoir\n"
        "        where: {measured_volume_ml: {le: {param: low_reservoir_alarm_ml}}}\n"
        "      - fact: handover\n        where: {algorithm: volume_check}"))
    dup = [i.rule_id for i in semantic(root) if i.check == "duplicate_conditions"]
    assert dup == ["nearly_empty_copy"]


def test_parameter_no_rule_uses(tmp_path: Path) -> None:
    root = make_kb(tmp_path, edits={"parameters.yaml": [(
        "  low_reservoir_alarm_ml:",
        "  forgotten_ml:\n    value: 3\n    unit: mL\n    cite: [{section: \"5.1\"}]\n"
        "  low_reservoir_alarm_ml:")]})
    unused = [i for i in semantic(root) if i.check == "unused_parameter"]
    assert [(i.file, i.line, i.rule_id) for i in unused] == [
        ("mini_kb/parameters.yaml", line_of(root, "parameters.yaml", "forgotten_ml"),
         "forgotten_ml")]


def test_parameter_used_only_through_a_calculation_counts_as_used(tmp_path: Path) -> None:
    # consequential_discrepancy_ml is read only by reservoir_discrepancy (vc_reconcile)
    root = make_kb(tmp_path)
    assert [i for i in semantic(root) if i.check == "unused_parameter"] == []
    text = rules_text(root).replace("      - compute: reservoir_discrepancy\n",
                                    "      - conclude: volume_higher\n")
    (root / RULES).write_text(text, encoding="utf-8")
    unused = [i.rule_id for i in semantic(root) if i.check == "unused_parameter"]
    assert unused == ["consequential_discrepancy_ml"]


def test_shipped_calculations_declare_every_parameter_they_read(tmp_path: Path) -> None:
    issues = [i for i in lint_kb(load_kb(make_kb(tmp_path))) if i.check == "calculation"]
    assert issues == []


def _reads_undeclared(volume_ml: float, params: calculations.Params) -> list[Derived]:
    return [Derived("catheter_volume", {"volume_ml": params["low_reservoir_alarm_ml"]})]


def _declares_another_fact(volume_ml: float) -> list[Derived]:
    return [Derived("expected_volume", {"volume_ml": volume_ml})]


def test_calculation_is_held_to_what_it_declares(monkeypatch: pytest.MonkeyPatch) -> None:
    # what a calculation reads and declares is declared with it; running it enforces that
    for func in (_reads_undeclared, _declares_another_fact):
        monkeypatch.setitem(calculations.CALCULATIONS, func.__name__, calculations.spec_of(
            func, declares=("catheter_volume",)))
    params = {"low_reservoir_alarm_ml": 3.0}
    with pytest.raises(calculations.CalculationError, match="low_reservoir_alarm_ml"):
        calculations.run("_reads_undeclared", {"volume_ml": 1.0}, params)
    with pytest.raises(calculations.CalculationError, match="'expected_volume'"):
        calculations.run("_declares_another_fact", {"volume_ml": 1.0}, params)


def test_calculation_declaring_a_parameter_the_kb_lacks(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_kb(tmp_path, edits={"parameters.yaml": [
        ("  consequential_discrepancy_ml:", "  renamed_discrepancy_ml:")]})
    issues = [i for i in lint_kb(load_kb(root)) if i.check == "calculation"]
    assert [(i.rule_id, i.line) for i in issues] == [
        ("vc_reconcile", line_of(root, RULES, "compute: reservoir_discrepancy"))]
    assert "consequential_discrepancy_ml" in issues[0].message


@pytest.mark.parametrize(("branch", "message"), [
    ("Fig. 12: somewhere", "figure '12', which the review does not have"),
    ("Step 9: somewhere", "step '9', which the review does not have"),
])
def test_branch_naming_a_figure_or_step_the_review_lacks(tmp_path: Path, branch: str,
                                                         message: str) -> None:
    root = make_kb(tmp_path, edits={RULES: [('"Fig. 8: no discrepancy"', f'"{branch}"')]})
    issues = [i for i in semantic(root) if i.check == "branch"]
    assert [(i.rule_id, i.line) for i in issues] == [
        ("vc_as_expected", line_of(root, RULES, branch))]
    assert message in issues[0].message


# -- the shipped knowledge base --------------------------------------------------------
def test_shipped_kb_lints_clean() -> None:
    try:
        issues = lint_kb(load_kb())
    except KBLoadError as exc:
        issues = exc.issues
    assert issues == [], "\n".join(f"{i}  [{i.check}]" for i in issues)
