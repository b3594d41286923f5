"""External exposures that can affect the pump (review 4, 4.1)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from .base import Finding


class ExposureKind(StrEnum):
    mri = "mri"
    lithotripsy = "lithotripsy"
    radiation_therapy = "radiation_therapy"
    scuba = "scuba"
    hyperbaric_oxygen = "hyperbaric_oxygen"


class ExposureStatus(StrEnum):
    planned = "planned"
    done = "done"


class RfMode(StrEnum):
    normal = "normal"
    first_level_controlled = "first_level_controlled"
    second_level_controlled = "second_level_controlled"


class ScannerType(StrEnum):
    horizontal_cylindrical = "horizontal_cylindrical"
    open_sided = "open_sided"
    standing = "standing"


class Exposure(Finding):
    kind: ExposureKind
    status: ExposureStatus = ExposureStatus.done
    count: int | None = Field(None, ge=1, le=1000, description="Number of exposures (e.g. MRIs).")
    # MRI conditions (4.1)
    field_strength_t: float | None = Field(None, gt=0, le=20)
    scanner_type: ScannerType | None = None
    max_spatial_gradient_t_per_m: float | None = Field(None, ge=0, le=1000)
    max_slew_rate_t_per_m_per_s: float | None = Field(None, ge=0, le=10_000)
    rf_mode: RfMode | None = None
    active_scan_minutes: float | None = Field(None, ge=0, le=1440)
    sar_w_per_kg: float | None = Field(None, ge=0, le=100)
    torso_scan: bool | None = None
    hydrogen_imaging: bool | None = None
    # Prometra MRI preparation and aftercare (4.1)
    reservoir_emptied: bool | None = None
    flow_set_to_zero: bool | None = None
    interrogated_after: bool | None = None
    post_mri_aspirate_ml: float | None = Field(None, ge=0, le=100)
