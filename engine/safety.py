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
6. A motor stall is only a cause of under-delivery (5.1): never concluded when the
   interrogation reads `motor_stall: none`, on a valve-gated Prometra, or for an overdose
   without a presentation of under-delivery (withdrawal, loss of therapy, alarm, MRI).
7. An alarm is named for the pump's own manufacturer (2.1): a Prometra alarm only on a
   Flowonix pump, a SynchroMed alarm only on a Medtronic pump.
8. The device work-up is deferred (7.4) only on entered findings: a measured volume, a
   performed interrogation with the motor status read (or a Prometra), and
   `mechanical_failure_suspected: false`. An unknown is never "no".
9. The volume class (lower / as expected / higher) is the one the entered volumes give
   in decimal arithmetic against the 5.1 threshold of the reservoir size (or of every
   size when it is unknown and the class does not depend on it).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from pumpdx.kb.facts import Case
from pumpdx.kb.facts.interrogation import MANUFACTURERS_WITHOUT_MOTOR
from pumpdx.kb.loader import KnowledgeBase
from pumpdx.kb.quantity import exact

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


def _maker(case: Case) -> str | None:
    return str(case.pump.manufacturer) if case.pump and case.pump.manufacturer else None


UNDERDELIVERY_PRESENTATIONS = frozenset({"withdrawal", "loss_of_therapy", "alarm", "mri_done"})


def motor_stall_only_as_underdelivery(case: Case, ids: set[str], kb: KnowledgeBase
                                      ) -> str | None:
    stall = _tagged(ids, kb, "motor_stall")
    if not stall:
        return None
    entered = case.interrogation.motor_stall if case.interrogation else None
    if entered in ("temporary", "permanent"):
        return None
    if entered == "none":
        return f"motor stall ({', '.join(stall)}) although the interrogation reads none"
    if _maker(case) in MANUFACTURERS_WITHOUT_MOTOR:
        return f"motor stall ({', '.join(stall)}) on a valve-gated pump without a motor"
    if not UNDERDELIVERY_PRESENTATIONS & set(case.presentation.problems):
        return f"motor stall ({', '.join(stall)}) without a presentation of under-delivery"
    return None


def alarm_of_the_pumps_manufacturer(case: Case, ids: set[str], kb: KnowledgeBase
                                    ) -> str | None:
    maker = _maker(case)
    wrong = [cid for tag, own in (("prometra_alarm", "flowonix"),
                                  ("synchromed_alarm", "medtronic"))
             if maker != own for cid in _tagged(ids, kb, tag)]
    if wrong:
        return f"alarm of another manufacturer ({', '.join(wrong)}) on a {maker} pump"
    return None


def device_workup_deferred_on_entered_findings(case: Case, ids: set[str], kb: KnowledgeBase
                                               ) -> str | None:
    deferral = _tagged(ids, kb, "defers_device_workup")
    if not deferral:
        return None
    missing = []
    if case.presentation.mechanical_failure_suspected is not False:
        missing.append("mechanical_failure_suspected: false")
    if case.reservoir is None or case.reservoir.measured_volume_ml is None:
        missing.append("a measured reservoir volume")
    inter = case.interrogation
    if inter is None or not inter.performed:
        missing.append("a performed interrogation")
    elif inter.motor_stall != "none" and _maker(case) not in MANUFACTURERS_WITHOUT_MOTOR:
        missing.append("motor_stall: none")
    if missing:
        return f"device work-up deferred ({', '.join(deferral)}) without {', '.join(missing)}"
    return None


def _volume_classes(case: Case, kb: KnowledgeBase) -> set[str] | None:
    """The volume classes the entered volumes allow (None: nothing to check)."""
    res = case.reservoir
    if res is None or res.measured_volume_ml is None:
        return None
    expected = res.expected_volume_ml
    if expected is None and case.interrogation is not None:
        expected = case.interrogation.calculated_reservoir_ml
    if expected is None:
        return None
    difference = exact(res.measured_volume_ml) - exact(expected)
    by_size = {k: exact(v) for k, v in kb.param_values()["consequential_discrepancy_ml"].items()}
    capacity = case.pump.reservoir_ml if case.pump else None
    if capacity is None:
        thresholds = set(by_size.values())
    else:
        thresholds = {by_size.get(f"{capacity:g}", min(by_size.values()))}
    classes = {_volume_class(difference, t) for t in thresholds}
    return classes if len(classes) == 1 else set()


def _volume_class(difference: Decimal, threshold: Decimal) -> str:
    if difference > threshold:
        return "volume_higher"
    if difference < -threshold:
        return "volume_lower"
    return "volume_as_expected"


def volume_class_at_entered_precision(case: Case, ids: set[str], kb: KnowledgeBase
                                      ) -> str | None:
    allowed = _volume_classes(case, kb)
    if allowed is None:
        return None
    wrong = [f"{cid} ({tag})" for tag in ("volume_lower", "volume_as_expected", "volume_higher")
             if tag not in allowed for cid in _tagged(ids, kb, tag)]
    if wrong:
        return (f"volume class {', '.join(wrong)} not what the entered volumes give "
                f"({', '.join(sorted(allowed)) or 'undecided without the reservoir size'})")
    return None


PROPERTIES: dict[str, Property] = {
    "contrast_only_when_safe": contrast_only_when_safe,
    "mass_or_deficit_escalated": mass_or_deficit_escalated,
    "no_refill_with_open_prometra_valves": no_refill_with_open_prometra_valves,
    "opioid_overdose_gets_naloxone": opioid_overdose_gets_naloxone,
    "motor_stall_only_as_underdelivery": motor_stall_only_as_underdelivery,
    "alarm_of_the_pumps_manufacturer": alarm_of_the_pumps_manufacturer,
    "device_workup_deferred_on_entered_findings": device_workup_deferred_on_entered_findings,
    "volume_class_at_entered_precision": volume_class_at_entered_precision,
}


def violations(case: Case, assessment: Assessment, kb: KnowledgeBase) -> list[str]:
    """Every safety property that this assessment breaks (empty when all hold)."""
    ids = {c.id for c in assessment.conclusions}
    out = [f"{name}: {problem}" for name, prop in PROPERTIES.items()
           if (problem := prop(case, ids, kb)) is not None]
    out += [f"no_contradictions: {c.first} contradicts {c.second}" for c in assessment.conflicts]
    return out
