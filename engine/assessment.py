"""The Assessment: what `assess` returns and `pumpdx assess --json` prints."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .trace import Trace

KIND_ORDER = ("urgent_action", "suspected_cause", "recommendation", "warning", "finding",
              "question")


class Conclusion(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    kind: str
    text: str
    citations: list[str]
    derived_by: list[int]
    rules: list[str]


class Asker(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule: str
    title: str
    firing: int


class Question(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    needs: str
    text: str
    citations: list[str]
    asked_by: list[Asker]


class Conflict(BaseModel):
    model_config = ConfigDict(frozen=True)

    first: str
    second: str


class Assessment(BaseModel):
    model_config = ConfigDict(frozen=True)

    decision_id: str
    next_step: str = Field(
        "", description="One line: the first thing to do, from the clinician view "
                        "(pumpdx.viz.clinicianview); every conclusion is still listed below.")
    kb_version: str
    engine: dict[str, str]
    case: dict[str, Any]
    conclusions: list[Conclusion]
    questions: list[Question]
    conflicts: list[Conflict]
    trace: Trace

    def conclusion_ids(self) -> set[str]:
        return {c.id for c in self.conclusions} | {q.id for q in self.questions}

    def by_kind(self, kind: str) -> list[Conclusion]:
        return [c for c in self.conclusions if c.kind == kind]
