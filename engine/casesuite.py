"""Case files and scenario files as one suite, run on one Assessor.

Used by `pumpdx kb test` (scenarios), `pumpdx kb coverage` and `pumpdx kb diff` (both).
A file is a scenario when it has any of the scenario keys (expect, forbid, case,
case_file); otherwise it is a plain case. A problem with one file is reported on that
file (status ERROR) and never stops the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pumpdx.kb.facts import Case

from .assess import Assessor
from .assessment import Assessment
from .inputs import InputError, case_from_data, parse_text, read_source
from .safety import violations
from .scenarios import ScenarioFile, ScenarioResult, check, load_scenario

SCENARIO_KEYS = ("expect", "forbid", "case", "case_file")
CASE_SUFFIXES = (".yaml", ".yml", ".json")
Status = Literal["PASS", "FAIL", "ERROR"]


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """The case and scenario files under each path (a folder: recursively, sorted; a
    knowledge-base folder: its cases/ and scenarios/)."""
    out: list[Path] = []
    for path in paths:
        if (path / "rules").is_dir() and (path / "concepts").is_dir():
            out.extend(collect_files([p for p in (path / "cases", path / "scenarios")
                                      if p.is_dir()]))
        elif path.is_dir():
            out.extend(sorted(p for p in path.rglob("*")
                              if p.suffix in CASE_SUFFIXES and p.is_file()))
        else:
            out.append(path)
    return list(dict.fromkeys(out))


def shown_path(path: Path, base: Path | None = None) -> str:
    """`path` relative to `base` (default: the working folder) when it is inside it."""
    base = (base or Path.cwd()).resolve()
    try:
        return path.resolve().relative_to(base).as_posix()
    except ValueError:
        return str(path)


@dataclass
class SuiteItem:
    """One loaded file: a case, and for a scenario what it expects."""

    path: str
    id: str
    kind: Literal["case", "scenario"]
    case: Case | None = None
    spec: ScenarioFile | None = None
    error: str | None = None


def load_item(path: Path, shown: str) -> SuiteItem:
    try:
        text, _ = read_source(str(path))
        data = parse_text(text, shown)
        if isinstance(data, dict) and any(k in data for k in SCENARIO_KEYS):
            scenario = load_scenario(path)
            return SuiteItem(shown, scenario.spec.id, "scenario", scenario.case, scenario.spec)
        return SuiteItem(shown, path.stem, "case", case_from_data(data, shown))
    except InputError as exc:
        kind: Literal["case", "scenario"] = "case"
        return SuiteItem(shown, path.stem, kind, error=str(exc))


@dataclass
class CaseRun:
    """One file run on one knowledge base."""

    item: SuiteItem
    assessment: Assessment | None = None
    result: ScenarioResult | None = None
    safety: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def status(self) -> Status:
        if self.error or self.item.error:
            return "ERROR"
        if (self.result is not None and self.result.status == "FAIL") or self.safety:
            return "FAIL"
        return "PASS"

    def fired_rules(self) -> set[str]:
        if self.assessment is None:
            return set()
        return {f.rule for f in self.assessment.trace.firings}

    def to_json(self) -> dict[str, object]:
        result = self.result
        return {
            "path": self.item.path, "id": self.item.id, "kind": self.item.kind,
            "status": self.status,
            "missing": result.missing if result else [],
            "forbidden_present": result.forbidden_present if result else [],
            "safety_violations": self.safety,
            "firings": result.firings if result else [],
            "error": self.error or self.item.error,
        }


def run_item(assessor: Assessor, item: SuiteItem) -> CaseRun:
    """Assess one loaded file; for a scenario also check expectations and safety."""
    if item.error is not None or item.case is None:
        return CaseRun(item)
    spec = item.spec
    if spec is not None:
        unknown = [c for c in spec.expect + spec.forbid if c not in assessor.kb.concepts]
        if unknown:
            return CaseRun(item, error="unknown concept ids: " + ", ".join(unknown))
    try:
        assessment = assessor.assess(item.case)
    except Exception as exc:  # one broken case must not stop the suite
        return CaseRun(item, error=f"the engine failed: {type(exc).__name__}: {exc}")
    run = CaseRun(item, assessment)
    if spec is not None:
        run.result = check(spec, assessment).model_copy(update={"path": item.path})
        try:
            run.safety = violations(item.case, assessment, assessor.kb)
        except Exception as exc:
            run.error = f"the safety checks failed: {type(exc).__name__}: {exc}"
    return run


def run_files(assessor: Assessor, files: Iterable[Path], base: Path | None = None
              ) -> list[CaseRun]:
    return [run_item(assessor, load_item(p, shown_path(p, base))) for p in files]
