"""Safety properties that must hold for every assessment.

They are stated over concept *tags* (kb/concepts: `tags:`), not ids, so that an
author who adds a new contrast or refill recommendation is covered as long as
the concept is tagged. Used by the scenario and property-based tests; callers
embedding PumpDx can run them too (`violations(case, assessment, kb)`).

1. No contrast through the CAP unless CSF was aspirated easily, or all of: dead
   space known, bolus tolerable, monitoring available, no granuloma concern and
   a recent MRI that excluded granuloma (review 7.5, 7.10, Fig. 10). A finding left
   blank counts as a condition not met.
2. A catheter-tip mass or compressive lesion on imaging, a suspected mass or a new
   neurological deficit always gives cessation or urgent neurosurgical review (7.1, 7.8).
3. A Prometra aspirate over 1 mL after MRI never gives refill (4.1).
4. An opioid overdose always gives naloxone and never opioid withdrawal therapy (7.9).
5. No two contradicting conclusions (concept `contradicts`).
"""

from __future__ import annotations

from collections.abc import Callable

from pumpdx.kb.facts import Case
from pumpdx.kb.loader import KnowledgeBase

from .assessment import Assessment

Property = Callable[[Case, set[str], KnowledgeBase], str | None]


def _tagged(ids: set[str], kb: KnowledgeBase, tag: str) -> list[str]:
    return sorted(i for i in ids if tag in kb.concepts[i].tags)


def _granuloma_concern(case: Case) -> bool:
    cap = case.cap_aspiration
    return bool(
        (cap is not None and cap.granuloma_concern)
        or any(i.finding in ("catheter_tip_mass", "compressive_lesion") for i in case.imaging)
        or "catheter_tip_mass_suspected" in case.presentation.problems)


def contrast_only_when_safe(case: Case, ids: set[str], kb: KnowledgeBase) -> str | None:
    given = _tagged(ids, kb, "contrast_through_cap")
    if not given:
        return None
    cap = case.cap_aspiration
    if cap is not None and cap.result == "easy" and not _granuloma_concern(case):
        return None
    # every condition of 7.5 must be entered and met: a blank finding is "not met"
    safe = (cap is not None and cap.dead_space_ml is not None and cap.bolus_tolerable is True
            and cap.monitoring_available is True and cap.granuloma_concern is False
            and not _granuloma_concern(case) and cap.recent_mri_excluded_granuloma is True)
    if safe:
        return None
    return f"contrast through the CAP ({', '.join(given)}) without the conditions of 7.5"


def mass_or_deficit_escalated(case: Case, ids: set[str], kb: KnowledgeBase) -> str | None:
    trigger = (any(i.finding in ("catheter_tip_mass", "compressive_lesion") for i in case.imaging)
               or {"new_neurological_deficit", "catheter_tip_mass_suspected"}
               & set(case.presentation.problems))
    if not trigger:
        return None
    if _tagged(ids, kb, "cessation") or _tagged(ids, kb, "neurosurgical_review"):
        return None
    return "catheter-tip mass or neurological deficit without cessation or neurosurgical review"


def no_refill_with_open_prometra_valves(case: Case, ids: set[str], kb: KnowledgeBase
                                        ) -> str | None:
    if case.pump is None or case.pump.model not in ("prometra", "prometra_ii"):
        return None
    limit = float(kb.parameters["prometra_post_mri_open_valve_aspirate_ml"].value)  # type: ignore[arg-type]
    opened = any(e.kind == "mri" and e.post_mri_aspirate_ml is not None
                 and e.post_mri_aspirate_ml > limit for e in case.exposures)
    refill = _tagged(ids, kb, "refill")
    if opened and refill:
        return f"refill ({', '.join(refill)}) after a Prometra post-MRI aspirate over {limit:g} mL"
    return None


def opioid_overdose_gets_naloxone(case: Case, ids: set[str], kb: KnowledgeBase) -> str | None:
    opioid = any(kb.agents[str(d.agent)].agent_class == "opioid" for d in case.drugs)
    if not (opioid and "overdose" in case.presentation.problems):
        return None
    if not _tagged(ids, kb, "naloxone"):
        return "opioid overdose without naloxone"
    therapy = _tagged(ids, kb, "opioid_withdrawal_therapy")
    if therapy:
        return f"opioid overdose with opioid withdrawal therapy ({', '.join(therapy)})"
    return None


PROPERTIES: dict[str, Property] = {
    "contrast_only_when_safe": contrast_only_when_safe,
    "mass_or_deficit_escalated": mass_or_deficit_escalated,
    "no_refill_with_open_prometra_valves": no_refill_with_open_prometra_valves,
    "opioid_overdose_gets_naloxone": opioid_overdose_gets_naloxone,
}


def violations(case: Case, assessment: Assessment, kb: KnowledgeBase) -> list[str]:
    """Every safety property that this assessment breaks (empty when all hold)."""
    ids = {c.id for c in assessment.conclusions}
    out = [f"{name}: {problem}" for name, prop in PROPERTIES.items()
           if (problem := prop(case, ids, kb)) is not None]
    out += [f"no_contradictions: {c.first} contradicts {c.second}" for c in assessment.conflicts]
    return out
