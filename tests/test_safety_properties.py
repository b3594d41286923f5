"""The safety properties (pumpdx.engine.safety) on every bundled case, every scenario and
10,000 generated cases, and a mutation test for each property of issue 9: a copy of the
knowledge base with one rule broken, on which the property finds a known case it breaks.

The 10,000 cases are tests/strategies.clinical_variants: the bundled and scenario cases
with the findings of the overdose, withdrawal and mass rules redrawn (seeded, the same
cases every run). A contradiction (two conclusions a concept declares `contradicts`) is a
violation like any other.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pumpdx.engine.assess import Assessor
from pumpdx.engine.safety import violations
from pumpdx.kb.facts import Case
from pumpdx.kb.loader import load_kb

from .fixtures.minikb import mutated_shipped_kb
from .strategies import clinical_variants, known_case_dicts

GENERATED = 10_000


def _violations(assessor: Assessor, data: dict[str, object]) -> list[str]:
    case = Case.model_validate(data)
    return violations(case, assessor.assess(case), assessor.kb)


def _first_violations(assessor: Assessor, cases: list[dict[str, object]], limit: int = 5
                      ) -> list[str]:
    found: list[str] = []
    for data in cases:
        problems = _violations(assessor, data)
        if problems:
            found.append(f"{problems} <- {data}")
            if len(found) >= limit:
                break
    return found


def test_every_bundled_case_and_scenario_is_safe(assessor: Assessor) -> None:
    known = list(known_case_dicts())
    assert len(known) > 250
    assert _first_violations(assessor, known) == []


def test_ten_thousand_generated_cases_are_safe(assessor: Assessor) -> None:
    cases = clinical_variants(GENERATED)
    assert len(cases) == GENERATED
    assert _first_violations(assessor, cases) == []


# -- each property fails when the rule behind it is broken --------------------------------
OW = "rules/overdose_withdrawal.yaml"
MUTATIONS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    # signs of opioid toxicity with no drug list no longer give naloxone
    "opioid_toxidrome_gets_naloxone": (OW, [
        ("      - conclude: suspected_opioid_toxicity\n      - conclude: titrated_naloxone\n",
         "      - conclude: suspected_opioid_toxicity\n")]),
    # the old "mixed picture": any sign read as overdose blocks the withdrawal branch
    "withdrawal_treated_whatever_the_signs": (OW, [
        ("      - not: {fact: conclusion, where: {id: suspected_opioid_toxicity}}\n",
         "      - not: {fact: conclusion, where: {id: suspected_opioid_toxicity}}\n"
         "      - not: {fact: sign, where: {overdose_sign: true}}\n")]),
    # baclofen withdrawal without creatine kinase
    "baclofen_withdrawal_emergency": (OW, [
        ("      - conclude: baclofen_withdrawal_creatine_kinase\n", "")]),
    # the diagnostic bolus forgets the hold for a mass or an unexplained deficit
    "no_bolus_or_dose_increase_while_mass_or_deficit_unresolved": ("rules/loss_of_therapy.yaml", [
        ("      - not: {fact: conclusion, where: {id: bolus_and_dose_increase_on_hold}}\n"
         "    then:\n      - conclude: diagnostic_bolus_considered\n",
         "    then:\n      - conclude: diagnostic_bolus_considered\n")]),
    # restoring therapy forgets that a mass stops intrathecal delivery: a contradiction
    "no_contradictions": (OW, [
        ("      - not: {fact: conclusion, where: {id: stop_intrathecal_delivery}}\n"
         "    then:\n      - conclude: restore_therapy_if_feasible\n",
         "    then:\n      - conclude: restore_therapy_if_feasible\n")]),
}


@pytest.mark.parametrize("prop", sorted(MUTATIONS))
def test_each_property_catches_its_broken_rule(prop: str, tmp_path: Path,
                                               assessor: Assessor) -> None:
    """On the intact knowledge base the known cases break nothing (test above); on the
    broken copy the property names at least one of them."""
    file, edits = MUTATIONS[prop]
    broken = Assessor(load_kb(mutated_shipped_kb(tmp_path, {file: edits})))
    hits = [p for data in known_case_dicts() for p in _violations(broken, data)
            if p.startswith(prop + ":")]
    assert hits, f"{prop}: no known case exposes the broken rule"
