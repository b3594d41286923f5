"""The reasoning trace, recorded while the engine fires (never reconstructed)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class TraceFact(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    type: str
    content: dict[str, Any]
    origin: Literal["input", "derived"]
    derived_by: int | None = None


class Firing(BaseModel):
    model_config = ConfigDict(frozen=True)

    seq: int
    rule: str
    algorithm: str
    matched: list[int]
    declared: list[int]


class Trace(BaseModel):
    model_config = ConfigDict(frozen=True)

    facts: list[TraceFact]
    firings: list[Firing]

    def fact(self, fact_id: int) -> TraceFact:
        for f in self.facts:
            if f.id == fact_id:
                return f
        raise KeyError(fact_id)
