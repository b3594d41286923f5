"""The knowledge-base file formats, as pydantic models.

A guideline author writes these as YAML; `pumpdx kb schema` prints them as JSON
Schema for editors. Conditions and actions are small mappings told apart by their
one key (`fact`, `not`, `any`; `conclude`, `declare`, `handover`, `compute`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from .rulelang.tree import (
    VARIABLE,
    AllCondition,
    AnyCondition,
    Condition,
    FieldTest,
    FieldValue,
    NotCondition,
    Operand,
    ParamRef,
    PatternCondition,
    Scalar,
)
from .strictmodel import SNAKE, Strict

# The condition tree lives in the rule language (pumpdx.kb.rulelang); its names stay
# importable from here, where the file formats that use it are.
__all__ = [
    "SNAKE", "VARIABLE", "AllCondition", "AnyCondition", "Condition", "FieldTest",
    "FieldValue", "NotCondition", "Operand", "ParamRef", "PatternCondition", "Scalar",
    "Strict",
]

QUOTE_WORDS = (4, 30)
_ELLIPSES = ("...", "\u2026")


class Citation(Strict):
    """Where a rule or concept comes from, with a verbatim quote that supports it.

    `source: review` (the default) needs a section or a figure of the review.
    `source: domain_notes` marks a fact beyond the review and needs `detail`
    naming the original source as given in shared/domain-notes.md; its `section` is the
    `## ` heading of the notes under which the entry stands (e.g. "Drugs").
    `quote` is a short verbatim excerpt (4-30 words, no ellipsis) of the cited section
    (for the domain notes: of one entry under that heading); `pumpdx kb lint --sources`
    checks that the source text contains it.
    """

    source: Literal["review", "trial_chapter", "domain_notes"] = "review"
    section: str | None = None
    figure: str | None = None
    detail: str | None = None
    quote: str | None = Field(
        None,
        description=(
            "A verbatim excerpt of the cited section (4-30 words, no ellipsis), matched "
            "case-insensitively after whitespace, quote and dash normalisation."
        ),
    )

    @model_validator(mode="after")
    def _complete(self) -> Citation:
        if self.source == "review" and not (self.section or self.figure):
            raise ValueError("a review citation needs a section or a figure")
        if self.source == "trial_chapter" and not self.section:
            raise ValueError("a trial_chapter citation needs a section")
        if self.source == "domain_notes" and not self.detail:
            raise ValueError("a domain_notes citation needs detail naming the original source")
        if self.quote is not None:
            problem = quote_form_problem(self.quote)
            if problem:
                raise ValueError(problem)
        return self

    def label(self) -> str:
        if self.source == "domain_notes":
            return f"Beyond the review: {self.detail}"
        if self.source == "trial_chapter":
            return f"Trial chapter: {self.section}"
        parts = []
        if self.section:
            parts.append(f"§{self.section}")
        if self.figure:
            parts.append(f"Fig. {self.figure}")
        text = "Review " + ", ".join(parts)
        return f"{text} ({self.detail})" if self.detail else text


def quote_form_problem(quote: str) -> str | None:
    """Why a quote is not in the agreed form (4-30 words, no ellipsis), or None."""
    if any(e in quote for e in _ELLIPSES):
        return "a quote is one verbatim excerpt: no ellipsis ('...') inside it"
    words = len(quote.split())
    low, high = QUOTE_WORDS
    if not low <= words <= high:
        return f"a quote has {low}-{high} words; this one has {words}"
    return None


class DeclareSpec(Strict):
    fact: str = Field(pattern=SNAKE)
    with_: dict[str, Scalar] = Field(default_factory=dict, alias="with")


class ConcludeAction(Strict):
    """Add a conclusion from the concept catalog."""

    conclude: str = Field(pattern=SNAKE)


class DeclareAction(Strict):
    """Declare an intermediate fact that other rules can match."""

    declare: DeclareSpec


class HandoverAction(Strict):
    """Hand the case over to another algorithm (declares a `handover` fact)."""

    handover: str = Field(pattern=SNAKE)


class ComputeAction(Strict):
    """Run a named calculation from kb/calculations.py on the bound variables."""

    compute: str = Field(pattern=SNAKE)


def _action_tag(value: Any) -> str | None:
    keys = ("conclude", "declare", "handover", "compute")
    if isinstance(value, dict):
        return next((k for k in keys if k in value), None)
    return next((k for k in keys if hasattr(value, k)), None)


Action = Annotated[
    Annotated[ConcludeAction, Tag("conclude")]
    | Annotated[DeclareAction, Tag("declare")]
    | Annotated[HandoverAction, Tag("handover")]
    | Annotated[ComputeAction, Tag("compute")],
    Discriminator(
        _action_tag,
        custom_error_type="action",
        custom_error_message="an action has one of the keys conclude, declare, handover, compute",
    ),
]


class Rule(Strict):
    id: str = Field(pattern=SNAKE, description="Stable id; never reuse one for another rule.")
    title: str = Field(min_length=3)
    cite: list[Citation] = Field(min_length=1)
    salience: int = Field(0, ge=-1000, le=1000, description="Higher fires first.")
    branch: str | None = Field(
        None,
        description="Figure branch this rule encodes, e.g. 'Fig. 11: volume lower than expected'.",
    )
    when: list[Condition] = Field(min_length=1)
    then: list[Action] = Field(min_length=1)
    notes: str | None = None


class RuleFile(Strict):
    algorithm: str = Field(pattern=SNAKE)
    title: str
    cite: list[Citation] = Field(default_factory=list)
    rules: list[Rule] = Field(min_length=1)


ConceptKind = Literal[
    "urgent_action", "suspected_cause", "recommendation", "warning", "finding", "question"
]


ConceptTag = Literal[
    "naloxone",
    "opioid_withdrawal_therapy",
    "refill",
    "contrast_through_cap",
    "cessation",
    "neurosurgical_review",
    "diagnostic_bolus",
    "motor_stall",
    "prometra_alarm",
    "synchromed_alarm",
    "defers_device_workup",
    "volume_lower",
    "volume_as_expected",
    "volume_higher",
    "programmed_bolus",
    "dose_increase",
    "clonidine_withdrawal_therapy",
    "baclofen_withdrawal_emergency",
    "restore_intrathecal_delivery",
    "creatine_kinase",
]


class Concept(Strict):
    id: str = Field(pattern=SNAKE)
    kind: ConceptKind
    text: str = Field(min_length=3)
    cite: list[Citation] = Field(min_length=1)
    contradicts: list[str] = Field(default_factory=list)
    tags: list[ConceptTag] = Field(
        default_factory=list,
        description=(
            "Safety-relevant meanings that the safety properties check (see pumpdx.engine.safety)."
        ),
    )
    needs: str | None = Field(None, description="Question only: the finding that is needed.")
    notes: str | None = None


class ConceptFile(Strict):
    concepts: list[Concept] = Field(min_length=1)


class Parameter(Strict):
    value: float | dict[str, float]
    unit: str
    cite: list[Citation] = Field(min_length=1)
    notes: str | None = None


class ParameterFile(Strict):
    parameters: dict[str, Parameter]


class AgentInfo(Strict):
    agent_class: str = Field(pattern=SNAKE, alias="class")
    lipophilic: bool | None = None
    cite: list[Citation] = Field(min_length=1)
    notes: str | None = None


class DrugFile(Strict):
    agents: dict[str, AgentInfo]


class SignReading(Strict):
    """How the sources read a sign for one drug class: as overdose, as withdrawal, or both.

    Each reading is the list of citations that support it; an empty list means no source
    reads the sign that way for this class.
    """

    overdose: list[Citation] = Field(default_factory=list)
    withdrawal: list[Citation] = Field(default_factory=list)
    notes: str | None = None

    @model_validator(mode="after")
    def _some_reading(self) -> SignReading:
        if not (self.overdose or self.withdrawal):
            raise ValueError("a reading needs overdose or withdrawal citations (leave the class "
                             "out when no source classifies the sign for it)")
        return self


GENERAL = "general"


class SignInfo(Strict):
    """A sign read per drug class (kb/signs.yaml).

    `readings` maps a drug class (kb/drugs.yaml) to its sourced reading; the key
    `general` is the review's reading that names no drug (review 3). A class that is not
    listed has no source for the sign: the sign is not classified for that class.
    """

    readings: dict[str, SignReading] = Field(default_factory=dict)
    spinal_withdrawal_feature: bool = False
    classic_opioid_withdrawal_feature: bool = False
    opioid_toxicity_sign: bool = Field(
        False, description="A sign of suspected opioid toxicity (review 7.9, 3.2).")
    cite: list[Citation] = Field(
        default_factory=list, description="Sources of the feature flags.")
    notes: str | None = None

    @model_validator(mode="after")
    def _flags_cited(self) -> SignInfo:
        flagged = (self.spinal_withdrawal_feature or self.classic_opioid_withdrawal_feature
                   or self.opioid_toxicity_sign)
        if flagged and not self.cite:
            raise ValueError("a sign with a feature flag needs `cite` for it")
        if not self.readings and not self.notes:
            raise ValueError("a sign that no source classifies needs `notes` saying so")
        return self

    def citations(self) -> list[Citation]:
        """Every citation of this sign (feature flags and readings)."""
        out = list(self.cite)
        for reading in self.readings.values():
            out += reading.overdose + reading.withdrawal
        return out

    def fact_fields(self, classes: frozenset[str] | None) -> dict[str, bool]:
        """The sign fact's fields for a pump holding drugs of `classes` (None: drugs not
        recorded). A sign reads as overdose (withdrawal) when the review's general reading
        or the reading of a class in the pump says so."""
        keys = [GENERAL, *sorted(classes or ())]
        readings = [self.readings[k] for k in keys if k in self.readings]
        return {
            "overdose_sign": any(r.overdose for r in readings),
            "withdrawal_sign": any(r.withdrawal for r in readings),
            "spinal_withdrawal_feature": self.spinal_withdrawal_feature,
            "classic_opioid_withdrawal_feature": self.classic_opioid_withdrawal_feature,
            "opioid_toxicity_sign": self.opioid_toxicity_sign,
        }


class SignFile(Strict):
    signs: dict[str, SignInfo]


class SourceInfo(Strict):
    """A document that may be cited, and how `kb lint --sources` finds its sections.

    layout `numbered`: a heading line, then a line holding only the section number,
    then the section's paragraphs (up to the next heading or `ends_at`); figure captions
    are lines "Figure N. caption". layout `anchored`: each section starts at the line
    beginning with its `starts` words and runs to the next section's start or `ends_at`.
    layout `notes`: the domain notes: `## heading` sections of `- ` entries; the text
    is the file given by `--notes` (default: domain-notes.md beside the sources folder).
    """

    title: str
    file: str | None = Field(None, pattern=r"^[^/\\]+$",
                             description="File name of the text in the sources folder.")
    layout: Literal["numbered", "anchored", "notes"] = "numbered"
    starts: dict[str, str] = Field(
        default_factory=dict, description="anchored layout: section -> its first words.")
    ends_at: str | None = Field(
        None, description="First words of the line where the last section's text ends.")
    sections: dict[str, str] = Field(default_factory=dict)
    figures: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _findable(self) -> SourceInfo:
        unknown = sorted(set(self.starts) - set(self.sections))
        if unknown:
            raise ValueError(f"starts names sections not in `sections`: {', '.join(unknown)}")
        if self.layout == "anchored" and set(self.starts) != set(self.sections):
            missing = sorted(set(self.sections) - set(self.starts))
            raise ValueError(f"anchored layout: `starts` needs every section; missing: "
                             f"{', '.join(missing)}")
        return self


class SourceFile(Strict):
    sources: dict[str, SourceInfo]


class ViewSection(Strict):
    """A heading of the clinician view: the items whose priority is below `below`."""

    title: str
    below: int


class ViewGroup(Strict):
    """Several concepts shown as one checklist item (each member present is a line)."""

    text: str = Field(min_length=3)
    members: list[str] = Field(min_length=2)


class ClinicianViewFile(Strict):
    """kb/clinician_view.yaml: how the clinician view orders and merges conclusions.

    The JSON assessment keeps every conclusion; this file only decides what a clinician
    reads first (docs/clinician-view.md). Priority: lower is shown first. A concept's
    priority is its entry in `priority`, else the smallest `tag_priority` of its tags,
    else its kind's `kind_priority` (so a new concept is placed without an entry here).
    """

    kind_priority: dict[ConceptKind, int]
    tag_priority: dict[ConceptTag, int] = Field(default_factory=dict)
    priority: dict[str, int] = Field(default_factory=dict)
    subsumes: dict[str, list[str]] = Field(
        default_factory=dict,
        description="broader concept -> the concepts it restates; the view shows only the "
                    "broader one (with every citation) when both are concluded")
    groups: dict[str, ViewGroup] = Field(default_factory=dict)
    after: dict[str, list[str]] = Field(
        default_factory=dict,
        description="question -> questions the algorithm asks first; while one of those is "
                    "open, this one is listed under 'later'")
    sections: list[ViewSection] = Field(min_length=1)
    detail_from: int = Field(
        description="items with this priority or more are listed only in the full view")
    short: dict[str, str] = Field(
        default_factory=dict, description="concept -> one-line text for the next step")

    @model_validator(mode="after")
    def _complete(self) -> ClinicianViewFile:
        missing = {"urgent_action", "suspected_cause", "recommendation", "warning",
                   "finding", "question"} - set(self.kind_priority)
        if missing:
            raise ValueError("kind_priority needs every kind; missing: "
                             + ", ".join(sorted(missing)))
        bounds = [s.below for s in self.sections]
        if bounds != sorted(bounds):
            raise ValueError("sections must be in increasing order of `below`")
        return self
