"""Why the patient is here: the presenting problems, their signs and their timing."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator

from .base import Finding


class Problem(StrEnum):
    overdose = "overdose"
    withdrawal = "withdrawal"
    loss_of_therapy = "loss_of_therapy"
    alarm = "alarm"
    mri_planned = "mri_planned"
    mri_done = "mri_done"
    routine_refill = "routine_refill"
    new_neurological_deficit = "new_neurological_deficit"
    # Triage scenarios named in review 7.1
    catheter_tip_mass_suspected = "catheter_tip_mass_suspected"
    severe_csf_leak = "severe_csf_leak"
    infection_suspected = "infection_suspected"
    trial_planning = "trial_planning"


class Sign(StrEnum):
    """Signs named by the review (3, 3.1, 3.2) and the domain notes (drug labels, Lee 2016)."""

    # withdrawal (3, 3.1)
    diaphoresis = "diaphoresis"
    agitation = "agitation"
    anxiety = "anxiety"
    tachycardia = "tachycardia"
    hypertension = "hypertension"
    diarrhea = "diarrhea"
    hyperalgesia = "hyperalgesia"
    restlessness = "restlessness"
    myalgias = "myalgias"
    yawning = "yawning"
    dysphoria = "dysphoria"
    taste_smell_aversion = "taste_smell_aversion"
    diuresis = "diuresis"
    piloerection = "piloerection"
    chills = "chills"
    mydriasis = "mydriasis"
    myoclonus = "myoclonus"
    increased_pain = "increased_pain"
    jitteriness = "jitteriness"
    fatigue = "fatigue"
    # overdose (3, 3.2)
    sedation = "sedation"
    somnolence = "somnolence"
    respiratory_depression = "respiratory_depression"
    desaturation = "desaturation"
    bradycardia = "bradycardia"
    hypotension = "hypotension"
    pinpoint_pupils = "pinpoint_pupils"
    tremor = "tremor"
    rigidity = "rigidity"
    nausea = "nausea"
    vomiting = "vomiting"
    dizziness = "dizziness"
    unresponsive = "unresponsive"
    decreased_pain = "decreased_pain"
    # baclofen withdrawal (label boxed warning, domain notes)
    high_fever = "high_fever"
    altered_mental_status = "altered_mental_status"
    rebound_spasticity = "rebound_spasticity"
    muscle_rigidity = "muscle_rigidity"
    # clonidine withdrawal (Lee et al. 2016, domain notes)
    hypertensive_crisis = "hypertensive_crisis"
    headache = "headache"
    # local complications (7.1)
    fever = "fever"


class Presentation(Finding):
    problems: list[Problem] = Field(min_length=1, max_length=50)
    signs: list[Sign] = Field(default_factory=list, max_length=100)
    onset_hours_after_refill: float | None = Field(None, ge=0, le=24 * 365)
    onset_hours_after_programming_change: float | None = Field(None, ge=0, le=24 * 365)
    days_before_scheduled_refill: float | None = Field(None, ge=0, le=365)
    prior_similar_episodes: bool | None = None
    recent_medication_change: bool | None = None
    recent_procedure: bool | None = None
    non_device_cause_identified: bool | None = Field(
        None,
        description="Disease progression, new injury or another non-device cause found (7.10).")
    mechanical_failure_suspected: bool | None = Field(
        None, description="Clinical picture still concerning for mechanical failure (7.4).")
    rapidly_evolving: bool | None = Field(None, description="High-risk or rapidly evolving (7.1).")
    external_exposures_asked: bool | None = Field(
        None,
        description="MRI, lithotripsy, radiation, SCUBA and hyperbaric oxygen were asked "
                    "about (4); any found are listed in exposures.")

    @field_validator("problems", "signs")
    @classmethod
    def _as_a_set(cls, values: list[Any]) -> list[Any]:
        """Problems and signs are sets: repeats and order mean nothing, so they are
        kept once each, sorted (the same findings give the same decision id)."""
        return sorted(set(values))
