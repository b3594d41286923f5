"""Shared base for the clinical input models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Finding(BaseModel):
    """A block of clinical findings: unknown fields are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True,
                              str_strip_whitespace=True)
