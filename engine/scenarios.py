"""Scenario tests as data: a case plus the conclusions that must and must not appear.

A scenario file (kb/scenarios/<group>/<name>.yaml):

    id: fig11_volume_lower_than_expected
    title: Overdose with a lower-than-expected reservoir volume
    branch: "Fig. 11: reservoir volume lower than expected"   # optional
    case: {...}                  # a case, inline
    case_file: ../../cases/x.yaml   # ...or a case file, relative to this file
    expect: [suspected_overinfusion, titrated_naloxone]
    forbid: [systemic_opioid_for_withdrawal]

`expect` and `forbid` hold concept ids (conclusions or questions).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pumpdx.kb.facts import Case

from .assessment import Assessment
from .inputs import InputError, case_from_data, load_case, parse_text


class ScenarioFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$")
    title: str
    branch: str | None = None
    notes: str | None = None
    case: dict[str, Any] | None = None
    case_file: str | None = None
    expect: list[str] = Field(default_factory=list)
    forbid: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_case(self) -> ScenarioFile:
        if (self.case is None) == (self.case_file is None):
            raise ValueError("give exactly one of case or case_file")
        if not self.expect and not self.forbid:
            raise ValueError("a scenario needs expect or forbid (or both)")
        overlap = set(self.expect) & set(self.forbid)
        if overlap:
            raise ValueError(f"both expected and forbidden: {', '.join(sorted(overlap))}")
        return self


class Scenario(BaseModel):
    path: str
    spec: ScenarioFile
    case: Case


class ScenarioResult(BaseModel):
    path: str
    id: str
    status: Literal["PASS", "FAIL", "ERROR"]
    missing: list[str] = Field(default_factory=list)
    forbidden_present: list[str] = Field(default_factory=list)
    error: str | None = None
    firings: list[str] = Field(default_factory=list)


def load_scenario(path: Path) -> Scenario:
    """Load one scenario file; raises InputError (one line) when it is malformed."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    data = parse_text(text, str(path))
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping with id, title, case, expect, forbid")
    try:
        spec = ScenarioFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise InputError(f"{path}: {where}: {err['msg'].removeprefix('Value error, ')}") from None
    if spec.case_file is not None:
        case = load_case(str((path.parent / spec.case_file).resolve()))
    else:
        case = case_from_data(spec.case, f"{path}: case")
    return Scenario(path=str(path), spec=spec, case=case)


def scenario_paths(roots: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for root in roots:
        if root.is_dir():
            out.extend(sorted(root.rglob("*.yaml")))
        else:
            out.append(root)
    return out


def check(spec: ScenarioFile, assessment: Assessment) -> ScenarioResult:
    ids = assessment.conclusion_ids()
    missing = [c for c in spec.expect if c not in ids]
    present = [c for c in spec.forbid if c in ids]
    relevant = set(missing) | set(present)
    firings = []
    if present:
        derived = {c.id: c for c in assessment.conclusions}
        for cid in present:
            if cid in derived:
                firings.append(f"{cid} <- rules {', '.join(derived[cid].rules)} "
                               f"(firings {', '.join(map(str, derived[cid].derived_by))})")
    if missing:
        firings.append("fired: " + (", ".join(f"#{f.seq} {f.rule}"
                                              for f in assessment.trace.firings) or "nothing"))
    status: Literal["PASS", "FAIL"] = "FAIL" if relevant else "PASS"
    return ScenarioResult(path="", id=spec.id, status=status, missing=missing,
                          forbidden_present=present, firings=firings)
