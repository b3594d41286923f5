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
10. Signs of opioid toxicity (respiratory depression, desaturation, pinpoint pupils) with an
    opioid in the pump or with the drug list not recorded always give titrated naloxone and
    never opioid withdrawal therapy (7.9, 3.2).
11. Drug-aware withdrawal: a withdrawal (no overdose stated, no sign of opioid toxicity)
    gets the drug's withdrawal treatment whatever other signs are entered: systemic opioid
    for an opioid, IV clonidine for clonidine (7.9); and an empty reservoir is refilled
    unless a stated finding forbids it (7.9; 4.1, 7.8, 7.10). A sign that is not specific
    never withholds treatment or a refill.
12. Baclofen withdrawal always gives the emergency management and creatine kinase, and,
    without an overdose or a cessation, restoration of intrathecal delivery (domain notes:
    Saulino et al. 2016, label boxed warning, Ross et al. 2011).
13. A suspected catheter-tip mass, a mass or compressive lesion, or a new neurological
    deficit that MRI has not yet answered never gives a diagnostic or programmed bolus or a
    dose increase (7.1, 7.5, 7.7, 7.8).
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


def _classes(case: Case, kb: KnowledgeBase) -> set[str]:
    return {kb.agents[str(d.agent)].agent_class for d in case.drugs}


def _opioid_toxicity_suspected(case: Case, kb: KnowledgeBase) -> bool:
    """A sign of opioid toxicity with an opioid in the pump or no drug list."""
    signs = any(kb.signs[str(s)].opioid_toxicity_sign for s in case.presentation.signs)
    return signs and (not case.drugs or "opioid" in _classes(case, kb))


def opioid_toxidrome_gets_naloxone(case: Case, ids: set[str], kb: KnowledgeBase
                                   ) -> str | None:
    if not _opioid_toxicity_suspected(case, kb):
        return None
    if not _tagged(ids, kb, "naloxone"):
        known = "with the drug list not recorded" if not case.drugs else "with an opioid pump"
        return f"signs of opioid toxicity {known} without naloxone"
    therapy = _tagged(ids, kb, "opioid_withdrawal_therapy")
    if therapy:
        return f"suspected opioid toxicity with opioid withdrawal therapy ({', '.join(therapy)})"
    return None


def _pure_withdrawal(case: Case, kb: KnowledgeBase) -> bool:
    problems = set(case.presentation.problems)
    return ("withdrawal" in problems and "overdose" not in problems
            and not _opioid_toxicity_suspected(case, kb))


def _refill_forbidden(case: Case, kb: KnowledgeBase) -> bool:
    """A stated finding under which the review does not refill (or cannot restore)."""
    interrogation = case.interrogation
    prometra = _maker(case) == "flowonix" or (
        case.pump is not None and case.pump.model in ("prometra", "prometra_ii"))
    audible = case.audible_alarm.pattern if case.audible_alarm is not None else None
    limit = float(kb.parameters["prometra_post_mri_open_valve_aspirate_ml"].value)  # type: ignore[arg-type]
    open_valves = any(e.kind == "mri" and e.post_mri_aspirate_ml is not None
                      and e.post_mri_aspirate_ml > limit for e in case.exposures)
    return bool(
        (case.reservoir is not None and case.reservoir.refill_possible is False)
        or (interrogation is not None and (
            interrogation.motor_stall == "permanent" or interrogation.end_of_service is True
            or (prometra and "critical_error" in interrogation.alarms_logged)))
        or (prometra and audible == "three_long_beeps_every_30_min")
        or any(i.finding in ("catheter_tip_mass", "compressive_lesion") for i in case.imaging)
        or (prometra and open_valves))


def _reservoir_empty(case: Case) -> bool:
    return bool((case.interrogation is not None
                 and case.interrogation.calculated_reservoir_ml == 0)
                or (case.reservoir is not None and case.reservoir.measured_volume_ml == 0))


def withdrawal_treated_whatever_the_signs(case: Case, ids: set[str], kb: KnowledgeBase
                                          ) -> str | None:
    if not _pure_withdrawal(case, kb):
        return None
    classes = _classes(case, kb)
    missing = []
    if "opioid" in classes and not _tagged(ids, kb, "opioid_withdrawal_therapy"):
        missing.append("systemic opioid")
    if "clonidine" in classes and not _tagged(ids, kb, "clonidine_withdrawal_therapy"):
        missing.append("IV clonidine")
    refill_due = _reservoir_empty(case) and not _refill_forbidden(case, kb)
    if refill_due and not _tagged(ids, kb, "refill"):
        missing.append("refill of the empty reservoir")
    if missing:
        return "withdrawal without " + ", ".join(missing)
    return None


def baclofen_withdrawal_emergency(case: Case, ids: set[str], kb: KnowledgeBase) -> str | None:
    if not ("withdrawal" in case.presentation.problems and "baclofen" in _classes(case, kb)):
        return None
    missing = [tag for tag in ("baclofen_withdrawal_emergency", "creatine_kinase")
               if not _tagged(ids, kb, tag)]
    ceased = bool(_tagged(ids, kb, "cessation"))
    if ("overdose" not in case.presentation.problems and not ceased
            and not _tagged(ids, kb, "restore_intrathecal_delivery")):
        missing.append("restore_intrathecal_delivery")
    if missing:
        return "baclofen withdrawal without " + ", ".join(missing)
    return None


MRI_UNANSWERED = ("inconclusive", "catheter_tip_mass", "compressive_lesion")


def mass_or_deficit_unresolved(case: Case) -> bool:
    """A mass or compressive lesion on imaging, or a suspected mass, granuloma concern or
    new neurological deficit that no MRI of the spine has answered."""
    if any(i.finding in ("catheter_tip_mass", "compressive_lesion") for i in case.imaging):
        return True
    suspected = bool({"new_neurological_deficit", "catheter_tip_mass_suspected"}
                     & set(case.presentation.problems)) or bool(
        case.cap_aspiration is not None and case.cap_aspiration.granuloma_concern)
    answered = any(i.modality == "mri_spine" and i.finding not in MRI_UNANSWERED
                   for i in case.imaging)
    return suspected and not answered


def no_bolus_or_dose_increase_while_mass_or_deficit_unresolved(
        case: Case, ids: set[str], kb: KnowledgeBase) -> str | None:
    if not mass_or_deficit_unresolved(case):
        return None
    given = sorted({*_tagged(ids, kb, "diagnostic_bolus"), *_tagged(ids, kb, "programmed_bolus"),
                    *_tagged(ids, kb, "dose_increase")})
    if given:
        return (f"bolus or dose increase ({', '.join(given)}) while a mass or a new deficit "
                "is unresolved by MRI")
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
    "opioid_toxidrome_gets_naloxone": opioid_toxidrome_gets_naloxone,
    "withdrawal_treated_whatever_the_signs": withdrawal_treated_whatever_the_signs,
    "baclofen_withdrawal_emergency": baclofen_withdrawal_emergency,
    "no_bolus_or_dose_increase_while_mass_or_deficit_unresolved":
        no_bolus_or_dose_increase_while_mass_or_deficit_unresolved,
}


def violations(case: Case, assessment: Assessment, kb: KnowledgeBase) -> list[str]:
    """Every safety property that this assessment breaks (empty when all hold)."""
    ids = {c.id for c in assessment.conclusions}
    out = [f"{name}: {problem}" for name, prop in PROPERTIES.items()
           if (problem := prop(case, ids, kb)) is not None]
    out += [f"no_contradictions: {c.first} contradicts {c.second}" for c in assessment.conflicts]
    return out
