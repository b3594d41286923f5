"""CDS Hooks 2.0 messages as pydantic models: discovery, the hook call, cards, feedback."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

SERVICE_ID = "pumpdx-troubleshoot"


class _In(BaseModel):
    """A message from the client: unknown fields are allowed by the spec, kept out here."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ServiceDescriptor(_Out):
    hook: str
    title: str
    description: str
    id: str
    prefetch: dict[str, str]
    usageRequirements: str | None = None


class Discovery(_Out):
    services: list[ServiceDescriptor]


class FhirAuthorization(_In):
    access_token: str = Field(max_length=10_000)
    token_type: Literal["Bearer"]
    expires_in: int = Field(ge=0, le=10**9)
    scope: str = Field(max_length=10_000)
    subject: str = Field(max_length=1_000)
    patient: str | None = Field(None, max_length=1_000)


class PatientViewContext(_In):
    userId: str = Field(min_length=1, max_length=1_000)
    patientId: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9\-.]{1,64}$")
    encounterId: str | None = Field(None, max_length=1_000)


class HookRequest(_In):
    hook: Literal["patient-view"]
    hookInstance: UUID
    fhirServer: HttpUrl | None = None
    fhirAuthorization: FhirAuthorization | None = None
    context: PatientViewContext
    prefetch: dict[str, Any] | None = None


class Source(_Out):
    label: str
    url: str | None = None
    topic: dict[str, str] | None = None


class Link(_Out):
    label: str
    url: str
    type: Literal["absolute", "smart"]


class Card(_Out):
    uuid: str
    summary: str = Field(max_length=139)
    detail: str
    indicator: Literal["info", "warning", "critical"]
    source: Source
    links: list[Link] = Field(default_factory=list)


class CdsResponse(_Out):
    cards: list[Card]


class OverrideReason(_In):
    reason: dict[str, Any] | None = None
    userComment: str | None = Field(None, max_length=10_000)


class FeedbackItem(_In):
    card: str = Field(max_length=200)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[dict[str, Any]] = Field(default_factory=list, max_length=100)
    overrideReason: OverrideReason | None = None
    outcomeTimestamp: str = Field(max_length=100)


class Feedback(_In):
    feedback: list[FeedbackItem] = Field(min_length=1, max_length=100)
