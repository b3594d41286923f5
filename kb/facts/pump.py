"""The implanted pump."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from .base import Finding


class Manufacturer(StrEnum):
    medtronic = "medtronic"
    flowonix = "flowonix"
    # MedStream (review 3.2: "no longer marketed"); the review does not name its maker.
    other = "other"


class PumpModel(StrEnum):
    synchromed_ii = "synchromed_ii"
    synchromed_iii = "synchromed_iii"
    synchromed_el = "synchromed_el"
    prometra = "prometra"
    prometra_ii = "prometra_ii"
    medstream = "medstream"


MANUFACTURER_OF: dict[str, str] = {
    "synchromed_ii": "medtronic",
    "synchromed_iii": "medtronic",
    "synchromed_el": "medtronic",
    "prometra": "flowonix",
    "prometra_ii": "flowonix",
    "medstream": "other",
}

# Documented reservoir sizes (mL). SynchroMed II 20/40 (Health Canada recall
# 2019-10-11), Prometra 20, Prometra II 20/40 (Prometra MRI leaflet PL-21604-02),
# SynchroMed EL 18 (review 3.1 case). Other models: sizes not documented here.
RESERVOIR_SIZES_ML: dict[str, tuple[float, ...]] = {
    "synchromed_ii": (20.0, 40.0),
    "synchromed_el": (18.0,),
    "prometra": (20.0,),
    "prometra_ii": (20.0, 40.0),
}


class Pump(Finding):
    manufacturer: Manufacturer | None = Field(
        None, description="Derived from the model when omitted.")
    model: PumpModel | None = Field(None, description="Leave out while not yet identified.")
    reservoir_ml: float | None = Field(None, gt=0, le=100, description="Reservoir capacity in mL.")
    has_catheter_access_port: bool | None = None
    catheter_trimmed_length_cm: float | None = Field(
        None, ge=0, le=110,
        description="Prometra only: length trimmed from the 110 cm catheter (clinician manual).")

    @model_validator(mode="after")
    def _consistent(self) -> Pump:
        if self.model is None:
            return self
        expected = MANUFACTURER_OF[str(self.model)]
        if self.manufacturer is None:
            object.__setattr__(self, "manufacturer", expected)
        elif self.manufacturer != expected:
            raise ValueError(f"model {self.model} is made by {expected}, not {self.manufacturer}")
        sizes = RESERVOIR_SIZES_ML.get(str(self.model))
        if sizes and self.reservoir_ml is not None and self.reservoir_ml not in sizes:
            allowed = " or ".join(f"{s:g}" for s in sizes)
            raise ValueError(f"reservoir_ml for {self.model} must be {allowed} mL, "
                             f"got {self.reservoir_ml:g}")
        return self
