"""Quote-anchored citations: `pumpdx kb lint --sources DIR` finds every citation's quote in
the text of the section it cites, and fails, naming file:line, the rule or concept, the
section and the quote, on any quote that is not there.

The shipped knowledge base is checked against ../shared (the review, the trial chapter
and the domain notes, which the project does not ship); the behaviour of the check is
proven on the fixture knowledge base with a small fixture source
(tests/fixtures/mini_sources)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pumpdx.cli import main
from pumpdx.cli.kb_lint_cmd import lint_dir
from pumpdx.kb.issues import KBIssue, KBLoadError
from pumpdx.kb.loader import load_kb

from .conftest import REPO
from .fixtures.minikb import make_kb

SHARED = REPO.parent / "shared"
MINI_SOURCES = Path(__file__).resolve().parent / "fixtures" / "mini_sources"
SEEDS = MINI_SOURCES / "seeds"
RULES = "rules/volume_check.yaml"


def quote_issues(root: Path, seeds: Path = SEEDS, notes: Path | None = None) -> list[KBIssue]:
    version, issues, report = lint_dir(root, seeds, notes)
    assert version is not None, [str(i) for i in issues]
    assert report is not None
    return [i for i in issues if i.check == "quote"]


def line_of(root: Path, rel: str, text: str) -> int:
    lines = (root / rel).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


# -- the shipped knowledge base against the real sources --------------------------------
def test_every_shipped_citation_is_supported_by_its_source_text(
        capsys: pytest.CaptureFixture[str]) -> None:
    """`pumpdx kb lint --sources ../shared/seeds` passes with a quote on every citation."""
    if not (SHARED / "seeds").is_dir() or not (SHARED / "domain-notes.md").is_file():
        pytest.skip(f"{SHARED} (the review and the domain notes) is absent; CI always has it")
    code = main(["kb", "lint", "--sources", str(SHARED / "seeds")])
    out = capsys.readouterr().out
    assert [line for line in out.splitlines() if "[quote]" in line] == []
    counted = re.search(r"^quotes: (\d+) of (\d+) citations carry a quote \(100\.0 %\)$",
                        out, re.M)
    assert counted and counted.group(1) == counted.group(2), out[-500:]
    assert int(counted.group(2)) > 500
    assert code == 0, out[-2000:]


# -- the fixture: what passes ---------------------------------------------------------
def test_fixture_quotes_are_found_despite_case_line_breaks_typographic_quotes_and_dashes(
        tmp_path: Path) -> None:
    root = make_kb(tmp_path)
    # the parameter's quote is written with straight quotes and a hyphen; the text has
    # curly quotes, an en dash and a line break inside it
    quote = load_kb(root).parameters["consequential_discrepancy_ml"].cite[0].quote
    assert quote is not None and '"potentially consequential" - the fixture' in quote
    assert quote_issues(root) == []
    _version, _issues, report = lint_dir(root, SEEDS)
    assert report is not None and report.citations == report.quoted


# -- what fails -----------------------------------------------------------------------
def test_quote_from_another_section_fails_naming_file_line_rule_section_and_quote(
        tmp_path: Path) -> None:
    # "A lower volume than expected suggests overinfusion" is in 5.1, but vc_lower cites 7.3
    root = make_kb(tmp_path, edits={RULES: [
        ('cite: [{section: "7.3", quote: "A volume lower than expected"}]',
         'cite: [{section: "7.3", quote: "A lower volume than expected suggests overinfusion"}]'),
    ]})
    issues = quote_issues(root)
    assert [(i.file, i.line, i.rule_id) for i in issues] == [
        (f"mini_kb/{RULES}", line_of(root, RULES, "than expected suggests overinfusion"),
         "vc_lower")]
    message = issues[0].message
    assert "review §7.3" in message
    assert '"A lower volume than expected suggests overinfusion"' in message
    assert "(it is in 5.1)" in message


def test_invented_quote_fails_for_a_concept_and_a_parameter(tmp_path: Path) -> None:
    root = make_kb(tmp_path, edits={
        "concepts/mini.yaml": [('quote: "A lower volume than expected suggests overinfusion"',
                                'quote: "A lower volume than expected proves overinfusion"')],
        "parameters.yaml": [("more than 1 mL in 20 mL pumps", "more than 2 mL in 20 mL pumps")],
    })
    issues = quote_issues(root)
    assert [(i.file, i.rule_id) for i in issues] == [
        ("mini_kb/concepts/mini.yaml", "suspected_overinfusion"),
        ("mini_kb/parameters.yaml", "consequential_discrepancy_ml")]
    assert all("quote not found in review §5.1" in i.message for i in issues)


def test_a_citation_without_a_quote_is_an_error_and_lowers_the_share(tmp_path: Path) -> None:
    root = make_kb(tmp_path, edits={RULES: [
        ('cite: [{section: "7.3", quote: "A volume lower than expected"}]',
         'cite: [{section: "7.3"}]')]})
    issues = quote_issues(root)
    assert [(i.rule_id, i.line) for i in issues] == [
        ("vc_lower", line_of(root, RULES, 'cite: [{section: "7.3"}]'))]
    assert "citation of review §7.3 has no quote" in issues[0].message
    _version, _issues, report = lint_dir(root, SEEDS)
    assert report is not None and report.quoted == report.citations - 1
    assert report.share < 100


def test_text_outside_every_section_does_not_support_a_quote(tmp_path: Path) -> None:
    # the fixture's reference list (after `ends_at`) and its title are in no section
    root = make_kb(tmp_path, edits={RULES: [
        ('quote: "A volume lower than expected"}]',
         'quote: "the volume lower than expected is not a section"}]')]})
    assert [i.rule_id for i in quote_issues(root)] == ["vc_lower"]


def test_a_subsection_is_not_part_of_its_parent(tmp_path: Path) -> None:
    root = make_kb(tmp_path, edits={
        "sources.yaml": [('"7.1": "Step 1',
                          '"7": Decision-making algorithm\n      "7.1": "Step 1')],
        RULES: [('cite: [{section: "7.3", quote: "A volume lower than expected"}]',
                 'cite: [{section: "7", quote: "A volume lower than expected"}]')]})
    issues = quote_issues(root)
    assert [i.rule_id for i in issues] == ["vc_lower"]
    assert "review §7 (it is in 7.3)" in issues[0].message


def test_domain_notes_quote_lies_within_one_entry_under_the_cited_heading(
        tmp_path: Path) -> None:
    param = "the low-reservoir alarm of the fixture sounds at 2 mL"
    cases = {
        param: None,
        # across two entries
        "section (Fixture manual, alarm section). UNCONFIRMED": "quote not found",
        # an UNCONFIRMED entry is never a source
        "the fixture alarm can be set to any volume": "UNCONFIRMED entry",
        # the preamble is no entry
        "Preamble text: not an entry": "quote not found",
    }
    for i, (quote, expected) in enumerate(cases.items()):
        root = make_kb(tmp_path, name=f"kb{i}", edits={"parameters.yaml": [(param, quote)]})
        messages = [x.message for x in quote_issues(root)]
        if expected is None:
            assert messages == []
        else:
            assert len(messages) == 1 and expected in messages[0], (quote, messages)


def test_domain_notes_quote_under_the_wrong_heading_or_without_one_fails(
        tmp_path: Path) -> None:
    wrong = make_kb(tmp_path, name="wrong", edits={"parameters.yaml": [
        ("section: Devices,", "section: Drugs,")]})
    assert "quote not found in domain notes 'Drugs' (it is in Devices)" in \
        quote_issues(wrong)[0].message
    nameless = make_kb(tmp_path, name="nameless", edits={"parameters.yaml": [
        ("section: Devices,", "")]})
    assert "names the heading its entry stands under" in quote_issues(nameless)[0].message


def test_figure_captions_support_figure_citations_only(tmp_path: Path) -> None:
    # the fixture's Fig. 8 caption stands inside 7.10 between two marks "Fig. 8"; Fig. 11
    # is only referred to "(Fig. 11)" and has no caption
    cited = 'section: "7.10", figure: "8", quote: "Loss of therapy goes to the volume check"'
    caption = "Loss of therapy algorithm of the fixture"
    for name, citation, problem in [
        ("figure", f'figure: "8", quote: "{caption}"', None),
        ("both", f'section: "7.10", figure: "8", quote: "{caption}"', None),
        ("section", f'section: "7.10", quote: "{caption}"', "quote not found in review §7.10"),
        ("nocaption", f'figure: "11", quote: "{caption}"', "figure 11 has no caption"),
    ]:
        root = make_kb(tmp_path, name=name, edits={"rules/triage.yaml": [(cited, citation)]})
        messages = [i.message for i in quote_issues(root)]
        if problem is None:
            assert messages == [], name
        else:
            assert len(messages) == 1 and problem in messages[0], (name, messages)


def test_a_section_listed_in_sources_yaml_but_missing_from_the_text_is_reported(
        tmp_path: Path) -> None:
    root = make_kb(tmp_path, edits={"sources.yaml": [
        ('"7.10": "Step 7b', '"7.9": Overdose\n      "7.10": "Step 7b')]})
    issues = quote_issues(root)
    assert [(i.file, i.rule_id) for i in issues] == [("mini_kb/sources.yaml", "review")]
    assert "section '7.9' is not in the text" in issues[0].message


@pytest.mark.parametrize(("quote", "problem"), [
    ("short quote", "a quote has 4-30 words; this one has 2"),
    ("the expected volume ... the report predicts", "no ellipsis"),
    ("the expected volume \u2026 the report predicts", "no ellipsis"),
    (" ".join(["word"] * 31), "this one has 31"),
])
def test_a_quote_out_of_form_is_a_load_error(tmp_path: Path, quote: str, problem: str) -> None:
    root = make_kb(tmp_path, edits={RULES: [
        ('quote: "A volume lower than expected"}]', f'quote: "{quote}"}}]')]})
    with pytest.raises(KBLoadError) as exc:
        load_kb(root)
    assert [i.rule_id for i in exc.value.issues if problem in i.message] == ["vc_lower"]


# -- the command line -------------------------------------------------------------------
def test_cli_reports_the_quote_share_and_fails_on_a_wrong_quote(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = make_kb(tmp_path, name="good")
    assert main(["kb", "lint", str(good), "--sources", str(SEEDS)]) in (0, 1)
    out = capsys.readouterr().out
    assert "[quote]" not in out
    assert re.search(r"^quotes: (\d+) of \1 citations carry a quote \(100\.0 %\)$", out, re.M)
    bad = make_kb(tmp_path, name="bad", edits={RULES: [
        ('quote: "A volume lower than expected"}]',
         'quote: "A volume much lower than expected"}]')]})
    assert main(["kb", "lint", str(bad), "--sources", str(SEEDS), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["quotes"]["share_percent"] == 100.0
    assert data["quotes"]["citations"] == data["quotes"]["quoted"] > 20
    assert [i["rule_id"] for i in data["issues"] if i["check"] == "quote"] == ["vc_lower"]


def test_explicit_notes_file_is_used(tmp_path: Path) -> None:
    notes = tmp_path / "other-notes.md"
    notes.write_text("## Devices\n- Another text altogether, with nothing to quote.\n"
                     "## Drugs\n- Nothing here either.\n",
                     encoding="utf-8")
    root = make_kb(tmp_path)
    assert [i.rule_id for i in quote_issues(root, notes=notes)] == ["low_reservoir_alarm_ml"]


@pytest.mark.parametrize(("args", "error"), [
    (["--sources", "{tmp}/nowhere"], "sources folder not found"),
    (["--sources", "{seeds}", "--notes", "{tmp}/none.md"], "source text not found"),
    (["--notes", "{tmp}/none.md"], "--notes needs --sources"),
    (["--sources", "{tmp}/empty", "--notes", "{notes}"], "review.txt: source text not found"),
    (["--sources", "{tmp}/binary", "--notes", "{notes}"], "not UTF-8 text"),
])
def test_unreadable_sources_are_bad_input_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], error: str) -> None:
    root = make_kb(tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "binary").mkdir()
    (tmp_path / "binary" / "review.txt").write_bytes(b"\xff\xfe\x00bad")
    filled = [a.format(tmp=tmp_path, seeds=SEEDS, notes=MINI_SOURCES / "domain-notes.md")
              for a in args]
    with pytest.raises(SystemExit) as exc:
        main(["kb", "lint", str(root), *filled])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert error in err and len(err.splitlines()) == 1
