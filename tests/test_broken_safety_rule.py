"""The property tests can fail: break one safety-relevant rule or concept in a copy of the
knowledge base and they find a case that violates a safety property.

Each break is made on the YAML of a copy of kb/ (never on kb/ itself), loaded with
load_kb(copy), and the property test of test_properties.py runs on that engine:
- the naloxone conclusion is taken out of the rules (opioid overdose without naloxone);
- the escalation of a catheter-tip mass or neurological deficit is taken out (no
  cessation, no neurosurgical review);
- the contrast rule of Fig. 10 loses its `monitoring_available` condition (contrast
  through the CAP without the conditions of 7.5);
- the naloxone concept loses its safety tag (a concept break: the conclusion is still
  drawn, but no longer known to be naloxone).
The same generated cases pass on the intact knowledge base.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, settings

from pumpdx.engine.assess import Assessor
from pumpdx.kb.facts import Case
from pumpdx.kb.loader import KnowledgeBase, default_kb_dir, load_kb

from .strategies import case_neighbours, cases, known_case_dicts
from .test_properties import property_test

SEARCH = settings(max_examples=200, database=None, derandomize=True, deadline=None,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))


def _copy_kb(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(default_kb_dir(), target,
                    ignore=shutil.ignore_patterns("*.py", "__pycache__", "cases", "scenarios"))
    return target


def _edit_yaml(folder: Path, edit: Callable[[dict[str, Any]], bool]) -> int:
    """Apply `edit` to every YAML file in folder; returns how many files it changed."""
    changed = 0
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if edit(data):
            path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
                            encoding="utf-8")
            changed += 1
    return changed


def _tagged(kb: KnowledgeBase, tag: str) -> set[str]:
    return {cid for cid, c in kb.concepts.items() if tag in c.tags}


def _drop_conclusions(ids: set[str]) -> Callable[[dict[str, Any]], bool]:
    """Take `conclude: X` for X in ids out of every rule (a rule left empty goes)."""

    def edit(data: dict[str, Any]) -> bool:
        before = repr(data)
        kept = []
        for rule in data.get("rules") or []:
            rule["then"] = [a for a in rule["then"] if a.get("conclude") not in ids]
            if rule["then"]:
                kept.append(rule)
        data["rules"] = kept
        return repr(data) != before

    return edit


def _drop_condition(concludes: set[str], fact: str, field: str
                    ) -> Callable[[dict[str, Any]], bool]:
    """Remove the test on fact.field from the rules that conclude one of `concludes`."""

    def edit(data: dict[str, Any]) -> bool:
        changed = False
        for rule in data.get("rules") or []:
            if not {a.get("conclude") for a in rule["then"]} & concludes:
                continue
            for cond in rule["when"]:
                if cond.get("fact") == fact and field in (cond.get("where") or {}):
                    del cond["where"][field]
                    changed = True
        return changed

    return edit


def _drop_tag(tag: str) -> Callable[[dict[str, Any]], bool]:
    def edit(data: dict[str, Any]) -> bool:
        changed = False
        for concept in data.get("concepts") or []:
            if tag in (concept.get("tags") or []):
                concept["tags"].remove(tag)
                changed = True
        return changed

    return edit


def _broken(tmp_path: Path, folder: str, edit: Callable[[dict[str, Any]], bool]) -> Assessor:
    kb_dir = _copy_kb(tmp_path)
    assert _edit_yaml(kb_dir / folder, edit) > 0, "nothing to break: the KB has changed"
    return Assessor(load_kb(kb_dir))


def test_without_naloxone_an_opioid_overdose_is_found(tmp_path: Path, kb: KnowledgeBase) -> None:
    naloxone = _tagged(kb, "naloxone")
    assert naloxone, "no concept is tagged naloxone"
    broken = _broken(tmp_path, "rules", _drop_conclusions(naloxone))
    with pytest.raises(AssertionError, match="opioid_overdose_gets_naloxone"):
        property_test(broken, cases(), SEARCH)()


def test_without_escalation_a_mass_or_deficit_is_found(tmp_path: Path,
                                                       kb: KnowledgeBase) -> None:
    escalation = _tagged(kb, "cessation") | _tagged(kb, "neurosurgical_review")
    assert escalation, "no concept is tagged cessation or neurosurgical_review"
    broken = _broken(tmp_path, "rules", _drop_conclusions(escalation))
    with pytest.raises(AssertionError, match="mass_or_deficit_escalated"):
        property_test(broken, cases(), SEARCH)()


def test_naloxone_concept_without_its_tag_is_found(tmp_path: Path) -> None:
    broken = _broken(tmp_path, "concepts", _drop_tag("naloxone"))
    with pytest.raises(AssertionError, match="opioid_overdose_gets_naloxone"):
        property_test(broken, cases(), SEARCH)()


def test_contrast_rule_without_its_monitoring_condition_is_found(
        tmp_path: Path, assessor: Assessor) -> None:
    """Contrast through the CAP after a failed aspiration needs monitoring (7.5).

    The search starts from the known cases (bundled cases, scenarios) that reach the
    contrast decision after a failed aspiration, and changes the CAP findings the
    contrast rule reads; on the intact knowledge base the same search finds nothing.
    """
    contrast = _tagged(assessor.kb, "contrast_through_cap")
    seeds = tuple(d for d in known_case_dicts()
                  if (d.get("cap_aspiration") or {}).get("result") == "failed"
                  and {c.id for c in assessor.assess(Case.model_validate(d)).conclusions}
                  & contrast)
    assert seeds, "no bundled case or scenario reaches contrast after a failed aspiration"
    nearby = case_neighbours(seeds, max_changes=2, sections=("cap_aspiration",)).map(
        Case.model_validate)
    property_test(assessor, nearby, SEARCH)()  # intact: no violation
    broken = _broken(tmp_path, "rules",
                     _drop_condition(contrast, "cap_aspiration", "monitoring_available"))
    with pytest.raises(AssertionError, match="contrast_only_when_safe"):
        property_test(broken, nearby, SEARCH)()


def test_the_same_search_passes_on_the_intact_kb(assessor: Assessor) -> None:
    """The cases that expose the broken rules above show no violation on the real KB."""
    property_test(assessor, cases(), SEARCH)()
