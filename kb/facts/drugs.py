"""Drugs in the pump reservoir."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from .base import Finding


class Agent(StrEnum):
    """Agents named by the review (sections 3-3.2) and the domain notes."""

    morphine = "morphine"
    hydromorphone = "hydromorphone"
    fentanyl = "fentanyl"
    bupivacaine = "bupivacaine"
    clonidine = "clonidine"
    ziconotide = "ziconotide"
    baclofen = "baclofen"


class Drug(Finding):
    agent: Agent
    concentration_mg_per_ml: float | None = Field(None, gt=0, le=100)
    concentration_mcg_per_ml: float | None = Field(None, gt=0, le=100_000)
    daily_dose_mg_per_day: float | None = Field(None, ge=0, le=1_000)
    daily_dose_mcg_per_day: float | None = Field(None, ge=0, le=100_000)

    @model_validator(mode="after")
    def _one_unit_each(self) -> Drug:
        if self.concentration_mg_per_ml is not None and self.concentration_mcg_per_ml is not None:
            raise ValueError("give concentration_mg_per_ml or concentration_mcg_per_ml, not both")
        if self.daily_dose_mg_per_day is not None and self.daily_dose_mcg_per_day is not None:
            raise ValueError("give daily_dose_mg_per_day or daily_dose_mcg_per_day, not both")
        return self

    def concentration_in_mg_per_ml(self) -> float | None:
        """Concentration normalised to mg/mL (mcg/mL / 1000)."""
        if self.concentration_mg_per_ml is not None:
            return self.concentration_mg_per_ml
        if self.concentration_mcg_per_ml is not None:
            return self.concentration_mcg_per_ml / 1000.0
        return None
