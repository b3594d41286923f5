"""Imaging studies and their results (review 6-6.4, 7.6, 7.7)."""

from __future__ import annotations

from enum import StrEnum

from .base import Finding


class Modality(StrEnum):
    radiograph = "radiograph"
    fluoroscopic_cap_myelography = "fluoroscopic_cap_myelography"
    cap_ct_myelography = "cap_ct_myelography"
    noncontrast_ct = "noncontrast_ct"
    lp_ct_myelography = "lp_ct_myelography"
    indium_dtpa_spect_ct = "indium_dtpa_spect_ct"
    mri_spine = "mri_spine"


class ImagingFinding(StrEnum):
    normal = "normal"
    inconclusive = "inconclusive"
    catheter_not_visible = "catheter_not_visible"
    catheter_discontinuity = "catheter_discontinuity"
    catheter_kink = "catheter_kink"
    catheter_leak = "catheter_leak"
    catheter_migration = "catheter_migration"
    catheter_disconnection = "catheter_disconnection"
    catheter_occlusion = "catheter_occlusion"
    catheter_tip_mass = "catheter_tip_mass"
    compressive_lesion = "compressive_lesion"
    contrast_near_pocket = "contrast_near_pocket"
    # serial radiographs or fluoroscopy (6.1)
    pump_migration_or_rotation = "pump_migration_or_rotation"
    syrinx = "syrinx"
    arachnoiditis = "arachnoiditis"


class Imaging(Finding):
    modality: Modality
    finding: ImagingFinding
