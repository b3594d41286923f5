"""Catheter access port (CAP) aspiration and contrast readiness (review 5.2, 7.5, Fig. 10)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from .base import Finding


class AspirationResult(StrEnum):
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
    granuloma_concern: bool | None = Field(
        None, description="Clinical concern for a catheter-tip granuloma or compressive lesion.")
    recent_mri_excluded_granuloma: bool | None = Field(
        None, description="A recent MRI has excluded catheter-tip granuloma or compression (7.5).")


class DiagnosticBolusResponse(StrEnum):
    appropriate = "appropriate"
    none = "none"


class DiagnosticBolus(Finding):
    """Pump-programmed diagnostic bolus (review 7.10)."""

    response: DiagnosticBolusResponse | None = None
    noticeable_response_expected: bool | None = Field(
        None, description="The agents in the pump are expected to give a noticeable response.")
