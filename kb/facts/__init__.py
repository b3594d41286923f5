"""The clinical fact vocabulary: pydantic models for every input a case can hold."""

from .case import Case
from .catheter import AspirationResult, CapAspiration, DiagnosticBolus, DiagnosticBolusResponse
from .drugs import Agent, Drug
from .exposures import Exposure, ExposureKind, ExposureStatus
from .imaging import Imaging, ImagingFinding, Modality
from .interrogation import AlarmPattern, AudibleAlarm, Interrogation, LoggedAlarm, MotorStall
from .labs import Labs
from .presentation import Presentation, Problem, Sign
from .pump import Manufacturer, Pump, PumpModel
from .reservoir import Reservoir
from .trial import LevelFinding, SpinalLevel, Trial

__all__ = [
    "Agent", "AlarmPattern", "AspirationResult", "AudibleAlarm", "CapAspiration", "Case",
    "DiagnosticBolus", "DiagnosticBolusResponse", "Drug", "Exposure", "ExposureKind",
    "ExposureStatus", "Imaging", "ImagingFinding", "Interrogation", "Labs", "LevelFinding",
    "LoggedAlarm", "Manufacturer", "Modality", "MotorStall", "Presentation", "Problem",
    "Pump", "PumpModel", "Reservoir", "Sign", "SpinalLevel", "Trial",
]
