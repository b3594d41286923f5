"""Catheter access port (CAP) aspiration and contrast readiness (review 5.2, 7.5, Fig. 10)."""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from .base import Finding


class AspirationResult(str, Enum):
    easy = "easy"
    failed = "failed"


class CapAspiration(Finding):
    result: AspirationResult | None = None
    under_fluoroscopy: bool | None = None
    csf_volume_ml: float | None = Field(None, ge=0, le=100)
    csf_clear: bool | None = None
    dead_space_ml: float | None = Field(
        None, ge=0, le=10, description="Calculated catheter dead space; absent means unknown.")
    bolus_tolerable: bool | None = Field(
        None, description="Patient expected to tolerate the drug bolus in the dead space.")
    monitoring_available: bool | None = None


class DiagnosticBolusResponse(str, Enum):
    appropriate = "appropriate"
    none = "none"


class DiagnosticBolus(Finding):
    """Pump-programmed diagnostic bolus (review 7.10)."""

    response: DiagnosticBolusResponse | None = None
    noticeable_response_expected: bool | None = Field(
        None, description="The agents in the pump are expected to give a noticeable response.")
