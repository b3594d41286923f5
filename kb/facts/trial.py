"""Intrathecal trial planning (seed 004: chapter excerpt on IDDS trials)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from .base import Finding


class TrialIndication(StrEnum):
    pain = "pain"
    spasticity = "spasticity"


class PainType(StrEnum):
    neuropathic = "neuropathic"
    nociceptive = "nociceptive"
    mixed = "mixed"


class TrialAgent(StrEnum):
    opioid = "opioid"
    ziconotide = "ziconotide"
    combination = "combination"
    baclofen = "baclofen"


class TrialTechnique(StrEnum):
    single_shot = "single_shot"
    catheter_intermittent_bolus = "catheter_intermittent_bolus"
    catheter_continuous_infusion = "catheter_continuous_infusion"


class TrialSpace(StrEnum):
    epidural = "epidural"
    intrathecal = "intrathecal"


class SpinalLevel(StrEnum):
    t12_l1 = "T12-L1"
    l1_l2 = "L1-L2"
    l2_l3 = "L2-L3"
    l3_l4 = "L3-L4"
    l4_l5 = "L4-L5"
    l5_s1 = "L5-S1"


class LevelFinding(Finding):
    level: SpinalLevel
    skin_breakdown: bool = False
    infection: bool = False
    prior_spine_surgery: bool = False
    interlaminar_space_visualised: bool | None = None


class Trial(Finding):
    indication: TrialIndication
    pain_type: PainType | None = None
    cancer_related: bool | None = None
    agent: TrialAgent | None = None
    technique: TrialTechnique | None = None
    space: TrialSpace | None = None
    planned_level: SpinalLevel | None = None
    levels: list[LevelFinding] = Field(default_factory=list)
