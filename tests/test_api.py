"""The Python API an embedding developer uses (the README's five lines)."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from pumpdx import Assessment, Case, assess, load_kb


def test_readme_api() -> None:
    kb = load_kb()
    case = Case.model_validate({
        "pump": {"model": "synchromed_ii", "reservoir_ml": 20},
        "drugs": [{"agent": "fentanyl", "concentration_mg_per_ml": 3}],
        "presentation": {"problems": ["overdose"], "signs": ["somnolence"]},
        "reservoir": {"expected_volume_ml": 10, "measured_volume_ml": 7},
    })
    result = assess(case, kb)
    assert isinstance(result, Assessment)
    assert "suspected_overinfusion" in result.conclusion_ids()
    assert result.kb_version == kb.version
    data = json.loads(result.model_dump_json())
    for key in ("decision_id", "kb_version", "engine", "case", "conclusions", "questions",
                "trace"):
        assert key in data
    assert set(data["trace"]) == {"facts", "firings"}
    first = data["conclusions"][0]
    assert set(first) >= {"id", "kind", "text", "citations", "derived_by"}


def test_assess_accepts_a_plain_mapping() -> None:
    result = assess({"pump": {"model": "prometra", "reservoir_ml": 20},
                     "presentation": {"problems": ["alarm"]},
                     "audible_alarm": {"pattern": "three_long_beeps_every_30_min"}})
    assert "prometra_critical_error_alarm" in result.conclusion_ids()


def test_invalid_case_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        assess({"pump": {"model": "synchromed_ii", "reservoir_ml": 25},
                "presentation": {"problems": ["alarm"]}})


def test_conclusions_are_traceable() -> None:
    """Every conclusion names firings of the trace that declared its fact, and cites."""
    result = assess({"pump": {"model": "synchromed_ii", "reservoir_ml": 20},
                     "drugs": [{"agent": "morphine", "concentration_mg_per_ml": 10}],
                     "presentation": {"problems": ["withdrawal"]},
                     "reservoir": {"expected_volume_ml": 5, "measured_volume_ml": 9}})
    firings = {f.seq: f for f in result.trace.firings}
    facts = {f.id: f for f in result.trace.facts}
    for c in result.conclusions:
        assert c.citations
        assert c.derived_by
        for seq in c.derived_by:
            declared = [facts[i] for i in firings[seq].declared]
            assert any(f.type == "conclusion" and f.content["id"] == c.id for f in declared)
    for f in result.trace.facts:
        assert (f.origin == "input") == (f.derived_by is None)
        if f.derived_by is not None:
            assert f.id in firings[f.derived_by].declared
