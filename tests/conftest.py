"""Shared fixtures: one Assessor (compiled engine) for the whole test session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pumpdx.engine.assess import Assessor, default_assessor
from pumpdx.engine.assessment import Assessment
from pumpdx.kb.facts import Case
from pumpdx.kb.loader import KnowledgeBase, default_kb_dir

REPO = Path(__file__).resolve().parent.parent
KB_DIR = default_kb_dir()
CASES_DIR = KB_DIR / "cases"
SCENARIOS_DIR = KB_DIR / "scenarios"


@pytest.fixture(scope="session")
def assessor() -> Assessor:
    return default_assessor()


@pytest.fixture(scope="session")
def kb(assessor: Assessor) -> KnowledgeBase:
    return assessor.kb


@pytest.fixture(scope="session")
def run(assessor: Assessor) -> Any:
    """run(dict) -> Assessment, for tests that build a case inline."""

    def _run(data: dict[str, Any]) -> Assessment:
        return assessor.assess(Case.model_validate(data))

    return _run
