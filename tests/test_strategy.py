"""The conflict-resolution strategy: a rule whose NOT condition becomes false before it
fires must not fire (experta's default strategy can fire it when keys tie)."""

from __future__ import annotations

import shutil
from pathlib import Path

from pumpdx.engine.assess import Assessor
from pumpdx.kb.facts import Case
from pumpdx.kb.loader import default_kb_dir, load_kb

RULES = """
algorithm: probe
title: strategy probe
rules:
  - id: probe_declares_handover
    title: declares a handover late (low salience) from an input fact
    cite: [{section: "7.9"}]
    salience: -10
    when:
      - fact: presentation
        where: {kind: overdose}
    then:
      - handover: probe
"""

TWIN = """
  - id: probe_twin_{n}
    title: must not fire once the handover exists (same salience and facts as its twins)
    cite: [{{section: "7.9"}}]
    salience: -20
    when:
      - fact: presentation
        where: {{kind: overdose}}
      - not: {{fact: handover, where: {{algorithm: probe}}}}
    then:
      - conclude: {concept}
"""
CONCEPTS = ["device_emergency_possible", "escalate_to_experienced_center",
            "immediate_supportive_management", "mri_spine_for_compression"]
RULES += "".join(TWIN.format(n=i, concept=CONCEPTS[i % 4]) for i in range(8))


def _probe_kb(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    src = default_kb_dir()
    root.mkdir()
    for name in ("sources.yaml", "parameters.yaml", "drugs.yaml", "signs.yaml"):
        shutil.copy(src / name, root / name)
    shutil.copytree(src / "concepts", root / "concepts")
    (root / "rules").mkdir()
    (root / "rules" / "probe.yaml").write_text(RULES)
    return root


def test_not_condition_that_became_false_does_not_fire(tmp_path: Path) -> None:
    assessor = Assessor(load_kb(_probe_kb(tmp_path)))
    case = Case.model_validate({"pump": {"model": "synchromed_ii"},
                                "presentation": {"problems": ["overdose"]}})
    result = assessor.assess(case)
    fired = [f.rule for f in result.trace.firings]
    assert fired == ["probe_declares_handover"]
    assert result.conclusions == []


def _tied_activations(assessor: Assessor) -> list[object]:
    """Eight activations of different rules with equal salience on the same fact."""
    from pumpdx.engine.compat import experta

    engine = assessor.engine
    engine.reset()
    fact = engine.declare(experta.Fact(probe=1))
    rules = [r for r in engine.get_rules() if r.salience == 0][:8]
    assert len(rules) == 8
    return [experta.activation.Activation(rule, [fact]) for rule in rules]


def _agenda_after_removal(strategy: object, acts: list[object]) -> list[object]:
    from pumpdx.engine.compat import experta

    agenda = experta.agenda.Agenda()
    strategy.update_agenda(agenda, acts, [])  # type: ignore[attr-defined]
    order = [4, 2, 6, 0, 7, 1, 5, 3]
    strategy.update_agenda(agenda, [], [acts[i] for i in order])  # type: ignore[attr-defined]
    return list(agenda.activations)


def test_removing_tied_activations_in_any_order_empties_the_agenda(assessor: Assessor) -> None:
    from pumpdx.engine.strategy import DeterministicStrategy

    assert _agenda_after_removal(DeterministicStrategy(), _tied_activations(assessor)) == []


def test_experta_default_strategy_leaves_tied_activations_behind(assessor: Assessor) -> None:
    """Documents why the project has its own strategy (DEVELOPERS.md pitfall)."""
    from pumpdx.engine.compat import experta

    left = _agenda_after_removal(experta.strategies.DepthStrategy(), _tied_activations(assessor))
    assert left, "experta's DepthStrategy removed every tied activation: re-check the pitfall"
