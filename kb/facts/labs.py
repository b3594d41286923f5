"""Laboratory results read as the review reads them (review 3.3).

Booleans, not values: the clinician judges each result against the local reference
range; the review interprets the abnormality, not a number.
"""

from __future__ import annotations

from pydantic import Field

from .base import Finding


class Labs(Finding):
    leukocytosis: bool | None = Field(None, description="White cell count raised.")
    anemia: bool | None = None
    electrolyte_or_metabolic_derangement: bool | None = None
    renal_dysfunction: bool | None = None
    hepatic_dysfunction: bool | None = None
    ck_elevated: bool | None = Field(None, description="Creatine (phospho)kinase raised or rising.")
