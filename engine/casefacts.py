"""Turn a validated Case into the ordered list of input facts for the engine."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from pumpdx.kb.facts import Case
from pumpdx.kb.loader import KnowledgeBase

FactList = list[tuple[str, dict[str, Any]]]


def _plain(model: BaseModel, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    out = {}
    for k, v in model.model_dump(mode="json").items():
        if k not in skip and not isinstance(v, list | dict):
            out[k] = v
    return out


def case_facts(case: Case, kb: KnowledgeBase) -> FactList:
    """One fact per case section, one per list item, in a fixed order."""
    facts: FactList = []
    if case.pump is not None:
        facts.append(("pump", _plain(case.pump)))
    for drug in case.drugs:
        info = kb.agents[str(drug.agent)]
        facts.append(("drug", {
            "agent": str(drug.agent),
            "agent_class": info.agent_class,
            "lipophilic": info.lipophilic,
            "concentration_mg_per_ml": drug.concentration_in_mg_per_ml(),
            "daily_dose_mg_per_day": drug.daily_dose_mg_per_day,
            "daily_dose_mcg_per_day": drug.daily_dose_mcg_per_day,
            "agents_in_pump": len(case.drugs),
        }))
    pres = case.presentation
    for problem in dict.fromkeys(pres.problems):
        facts.append(("presentation", {"kind": str(problem)}))
    classes = (frozenset(kb.agents[str(d.agent)].agent_class for d in case.drugs)
               if case.drugs else None)
    for sign in dict.fromkeys(pres.signs):
        facts.append(("sign", {"name": str(sign), **kb.signs[str(sign)].fact_fields(classes)}))
    facts.append(("history", _plain(pres, skip=("problems", "signs"))))
    if case.interrogation is not None:
        facts.append(("interrogation", _plain(case.interrogation, skip=("alarms_logged",))))
        for alarm in dict.fromkeys(case.interrogation.alarms_logged):
            facts.append(("logged_alarm", {"kind": str(alarm)}))
    if case.audible_alarm is not None:
        facts.append(("audible_alarm", _plain(case.audible_alarm)))
    if case.reservoir is not None:
        facts.append(("reservoir", {**_plain(case.reservoir),
                                    "days_since_refill": case.days_since_refill()}))
    if case.cap_aspiration is not None:
        facts.append(("cap_aspiration", _plain(case.cap_aspiration)))
    if case.diagnostic_bolus is not None:
        facts.append(("diagnostic_bolus", _plain(case.diagnostic_bolus)))
    for study in case.imaging:
        facts.append(("imaging", _plain(study)))
    for exposure in case.exposures:
        facts.append(("exposure", _plain(exposure)))
    if case.labs is not None:
        facts.append(("labs", _plain(case.labs)))
    if case.trial is not None:
        facts.append(("trial", _plain(case.trial, skip=("levels",))))
        for level in case.trial.levels:
            facts.append(("trial_level", _plain(level)))
    return facts
