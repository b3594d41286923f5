"""One clinical presentation: everything the clinician knows now."""

from __future__ import annotations

from datetime import date

from pydantic import Field, ValidationInfo, field_validator, model_validator

from pumpdx.kb.controls import control_problem

from .base import Finding
from .catheter import CapAspiration, DiagnosticBolus
from .drugs import Drug
from .exposures import Exposure
from .imaging import Imaging
from .interrogation import (
    LOGGED_ALARMS_OF,
    MANUFACTURERS_WITHOUT_MOTOR,
    AudibleAlarm,
    Interrogation,
    MotorStall,
)
from .labs import Labs
from .presentation import Presentation
from .pump import Pump
from .reservoir import Reservoir
from .trial import Trial


class Case(Finding):
    """A whole presentation. Sections that were not examined are simply left out."""

    case_id: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=4000)
    other_findings: str | None = Field(
        None, max_length=4000,
        description="Free text: anything else observed that has no field. Kept and shown in "
                    "the report; never used by the rules.")
    assessment_date: date | None = None
    pump: Pump | None = None
    drugs: list[Drug] = Field(default_factory=list, max_length=10)
    presentation: Presentation
    interrogation: Interrogation | None = None
    audible_alarm: AudibleAlarm | None = None
    reservoir: Reservoir | None = None
    cap_aspiration: CapAspiration | None = None
    diagnostic_bolus: DiagnosticBolus | None = None
    imaging: list[Imaging] = Field(default_factory=list, max_length=50)
    exposures: list[Exposure] = Field(default_factory=list, max_length=50)
    trial: Trial | None = None
    labs: Labs | None = None

    @field_validator("case_id", "description")
    @classmethod
    def _printable(cls, value: str | None, info: ValidationInfo) -> str | None:
        # an identifier stays on one line; free text may have lines and tabs
        allowed = "\n\t" if info.field_name == "description" else ""
        problem = control_problem(value, allowed) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Case:
        res = self.reservoir
        if res is not None and res.last_refill_date is not None:
            if self.assessment_date is None:
                raise ValueError("reservoir.last_refill_date needs assessment_date")
            if res.last_refill_date > self.assessment_date:
                raise ValueError("reservoir.last_refill_date is after assessment_date")
        size = self.pump.reservoir_ml if self.pump is not None else None
        if (res is not None and res.expected_volume_ml is not None and size is not None
                and res.expected_volume_ml > size):
            raise ValueError(f"reservoir.expected_volume_ml ({res.expected_volume_ml:g} mL) "
                             f"is above the reservoir size (pump.reservoir_ml {size:g} mL)")
        if self.pump is None and self.trial is None:
            raise ValueError("a case needs a pump (troubleshooting) or a trial (trial planning)")
        self._device_specific_interrogation()
        agents = [d.agent for d in self.drugs]
        if len(agents) != len(set(agents)):
            raise ValueError("drugs: each agent may appear once")
        if (self.pump is not None and self.pump.has_catheter_access_port is False
                and self.cap_aspiration is not None and self.cap_aspiration.result is not None):
            raise ValueError("cap_aspiration.result is given for a pump recorded with "
                             "has_catheter_access_port: false")
        return self

    def _device_specific_interrogation(self) -> None:
        """Logged alarms and motor status must exist on the pump's make (review 2.1, 4.1)."""
        pump, interrogation = self.pump, self.interrogation
        if pump is None or pump.manufacturer is None or interrogation is None:
            return
        maker = str(pump.manufacturer)
        allowed = LOGGED_ALARMS_OF[maker]
        for alarm in interrogation.alarms_logged:
            if alarm not in allowed:
                names = ", ".join(str(a) for a in allowed) or "none (the review describes no "\
                    "alarms for this pump)"
                raise ValueError(f"interrogation.alarms_logged: '{alarm}' is not an alarm of "
                                 f"a {maker} pump; allowed for {maker}: {names}")
        if maker in MANUFACTURERS_WITHOUT_MOTOR and interrogation.motor_stall not in (
                None, MotorStall.none):
            raise ValueError(f"interrogation.motor_stall: a {maker} (Prometra) pump is "
                             "valve-gated and has no motor; leave motor_stall out")

    def days_since_refill(self) -> float | None:
        """Days since the last refill, from hours or from the two dates."""
        res = self.reservoir
        if res is None:
            return None
        if res.hours_since_refill is not None:
            return res.hours_since_refill / 24.0
        if res.last_refill_date is not None and self.assessment_date is not None:
            return float((self.assessment_date - res.last_refill_date).days)
        return None
