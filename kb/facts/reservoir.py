"""Reservoir data for volume reconciliation (review 5.1, 7.3)."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from .base import Finding

# Sanity bound on any volume in mL, not a clinical limit: it catches unit slips
# (an aspirate can exceed the reservoir capacity, review 3.1: 30 mL from 18 mL).
MAX_VOLUME_ML = 1000.0


class Reservoir(Finding):
    last_refill_volume_ml: float | None = Field(None, ge=0, le=MAX_VOLUME_ML)
    last_refill_date: date | None = None
    hours_since_refill: float | None = Field(None, ge=0, le=24 * 3650)
    daily_volume_ml: float | None = Field(
        None, ge=0, le=MAX_VOLUME_ML, description="Programmed volume infused per day.")
    expected_volume_ml: float | None = Field(
        None, ge=0, le=MAX_VOLUME_ML, description="Volume the interrogation report predicts.")
    measured_volume_ml: float | None = Field(
        None, ge=0, le=MAX_VOLUME_ML, description="Volume actually aspirated from the reservoir.")
    alarm_threshold_ml: float | None = Field(None, ge=0, le=MAX_VOLUME_ML)
    pocket_fill_suspected: bool | None = None
    septum_damage_suspected: bool | None = None
    aspirate_clear_fluid: bool | None = None
    aspirate_glucose_positive: bool | None = Field(
        None, description="Aspirate tested positive for glucose, suggesting CSF (review 3.1).")
    refill_possible: bool | None = Field(
        None, description="Therapy can be restored by refill (7.9).")
