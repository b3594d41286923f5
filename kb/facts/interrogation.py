"""Pump interrogation, event log and audible alarms (review 2, 2.1, 7.2)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from .base import Finding


class MotorStall(StrEnum):
    none = "none"
    temporary = "temporary"
    permanent = "permanent"


class LoggedAlarm(StrEnum):
    # SynchroMed (2.1)
    critical = "critical"
    non_critical = "non_critical"
    # Prometra (2.1)
    low_reservoir = "low_reservoir"
    critical_error = "critical_error"


# The alarms each manufacturer's pumps have (review 2.1: "The pattern, frequency, and
# urgency of the alarm depend on the manufacturer and device model"). The review
# describes no alarms of other pumps (MedStream).
LOGGED_ALARMS_OF: dict[str, tuple[LoggedAlarm, ...]] = {
    "medtronic": (LoggedAlarm.critical, LoggedAlarm.non_critical),
    "flowonix": (LoggedAlarm.low_reservoir, LoggedAlarm.critical_error),
    "other": (),
}
# Pumps without a motor: Prometra pumps are valve-gated (review 4.1: "the pump valves
# being open"), so an interrogation reports no motor stall for them.
MANUFACTURERS_WITHOUT_MOTOR = ("flowonix",)


class Interrogation(Finding):
    performed: bool = True
    motor_stall: MotorStall | None = None
    programming_error: bool | None = None
    low_battery_reset: bool | None = None
    elective_replacement_indicator: bool | None = None
    end_of_service: bool | None = None
    memory_error: bool | None = None
    pcia_activations: int | None = Field(None, ge=0, le=100_000)
    recent_programming_change: bool | None = None
    prolonged_shutdown_hours: float | None = Field(None, ge=0, le=24 * 365)
    calculated_reservoir_ml: float | None = Field(None, ge=0, le=100)
    flow_rate_mg_per_day: float | None = Field(None, ge=0, le=1_000)
    drugs_match_records: bool | None = Field(
        None, description="Drugs and concentrations on interrogation match the prescription.")
    alarms_logged: list[LoggedAlarm] = Field(default_factory=list, max_length=100)


class AlarmPattern(StrEnum):
    """Audible alarm as the patient or clinician describes it (review 2.1)."""

    two_short_beeps_every_30_min = "two_short_beeps_every_30_min"
    three_long_beeps_every_30_min = "three_long_beeps_every_30_min"
    dual_tone_3_seconds = "dual_tone_3_seconds"
    single_tone_about_hourly = "single_tone_about_hourly"
    unrecognised = "unrecognised"


class AudibleAlarm(Finding):
    pattern: AlarmPattern
    silenced: bool | None = None
