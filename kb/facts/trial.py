"""Intrathecal trial planning (seed 004: chapter excerpt on IDDS trials)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

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
    """Findings at one candidate level; a finding left out is unknown, not absent."""

    level: SpinalLevel
    skin_breakdown: bool | None = None
    infection: bool | None = None
    prior_spine_surgery: bool | None = None
    interlaminar_space_visualised: bool | None = None


class Trial(Finding):
    indication: TrialIndication
    pain_type: PainType | None = None
    cancer_related: bool | None = None
    agent: TrialAgent | None = None
    technique: TrialTechnique | None = None
    space: TrialSpace | None = None
    planned_level: SpinalLevel | None = None
    levels: list[LevelFinding] = Field(default_factory=list, max_length=len(SpinalLevel))

    @model_validator(mode="after")
    def _one_entry_per_level(self) -> Trial:
        seen = [str(f.level) for f in self.levels]
        repeated = sorted({lv for lv in seen if seen.count(lv) > 1})
        if repeated:
            raise ValueError("levels: each level may appear once (repeated: "
                             + ", ".join(repeated) + ")")
        return self
