"""assess(case) -> Assessment, on an engine built once per knowledge base."""

from __future__ import annotations

import gc
import hashlib
import json
import platform
import threading
from importlib import metadata
from pathlib import Path

from pumpdx.kb.facts import Case
from pumpdx.kb.loader import KnowledgeBase, load_kb
from pumpdx.viz.clinicianview import build_view

from .assessment import KIND_ORDER, Asker, Assessment, Conclusion, Conflict, Question
from .budget import (
    MAX_CASE_CPU_SECONDS,
    MAX_CASE_MEMORY_MB,
    Budget,
    CaseBudgetExceeded,
    case_budget,
)
from .casefacts import case_facts
from .compiler import build_engine
from .runtime import RunawayError, TracingEngine
from .trace import Trace


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def engine_versions() -> dict[str, str]:
    return {"pumpdx": _version("pumpdx"), "experta": _version("experta"),
            "python": platform.python_version()}


class Assessor:
    """A knowledge base with its compiled engine, reused for every case.

    experta engines are not thread-safe; a lock serialises cases. For parallel
    work use one Assessor per process. A case that takes more than
    `max_case_cpu_seconds` of CPU or grows memory by `max_case_memory_mb` is stopped
    with RunawayError (pumpdx.engine.budget).
    """

    max_case_cpu_seconds: float = MAX_CASE_CPU_SECONDS
    max_case_memory_mb: float = MAX_CASE_MEMORY_MB

    def __init__(self, kb: KnowledgeBase | None = None) -> None:
        self.kb = kb if kb is not None else load_kb()
        self.engine: TracingEngine = build_engine(self.kb)
        self._lock = threading.Lock()
        self._versions = engine_versions()

    def run(self, case: Case) -> Trace:
        with self._lock:
            budget = Budget(self.max_case_cpu_seconds, self.max_case_memory_mb)
            try:
                with case_budget(budget):
                    return self.engine.run_case(case_facts(case, self.kb))
            except CaseBudgetExceeded:
                # the matching was cut off half-way: a new engine, and what the old
                # one built freed now rather than during the next case
                self.engine = build_engine(self.kb)
                gc.collect()
                raise RunawayError(
                    f"the engine stopped this case: {budget.reason} (limit per case); "
                    f"a rule joins too many of its facts: run `pumpdx kb lint`") from None

    def assess(self, case: Case) -> Assessment:
        trace = self.run(case)
        case_json = case.model_dump(mode="json", exclude_none=True)
        canonical = json.dumps(case_json, sort_keys=True, separators=(",", ":"))
        decision = hashlib.sha256(f"{self.kb.version}\n{canonical}".encode()).hexdigest()
        conclusions, questions = self._conclusions(trace)
        return Assessment(
            decision_id="dx-" + decision[:16],
            next_step=build_view(conclusions, questions, self.kb).next_step,
            kb_version=self.kb.version,
            engine=self._versions,
            case=case_json,
            conclusions=conclusions,
            questions=questions,
            conflicts=self._conflicts({c.id for c in conclusions}),
            trace=trace,
        )

    def _conclusions(self, trace: Trace) -> tuple[list[Conclusion], list[Question]]:
        firings_by_fact: dict[int, list[int]] = {}
        rule_of = {f.seq: f.rule for f in trace.firings}
        for firing in trace.firings:
            for fid in firing.declared:
                firings_by_fact.setdefault(fid, []).append(firing.seq)
        conclusions: list[Conclusion] = []
        questions: list[Question] = []
        for fact in trace.facts:
            if fact.type != "conclusion":
                continue
            concept = self.kb.concepts[fact.content["id"]]
            seqs = firings_by_fact.get(fact.id, [])
            rules = list(dict.fromkeys(rule_of[s] for s in seqs))
            cites = list(dict.fromkeys(
                [c.label() for c in concept.cite]
                + [c.label() for r in rules for c in self.kb.rule(r).rule.cite]))
            if concept.kind == "question":
                questions.append(Question(
                    id=concept.id, needs=concept.needs or "", text=concept.text,
                    citations=cites,
                    asked_by=[Asker(rule=rule_of[s], title=self.kb.rule(rule_of[s]).rule.title,
                                    firing=s) for s in seqs]))
            else:
                conclusions.append(Conclusion(id=concept.id, kind=concept.kind,
                                              text=concept.text, citations=cites,
                                              derived_by=seqs, rules=rules))
        conclusions.sort(key=lambda c: (KIND_ORDER.index(c.kind), c.derived_by[:1], c.id))
        return conclusions, questions

    def _conflicts(self, ids: set[str]) -> list[Conflict]:
        pairs = set()
        for cid in ids:
            for other in self.kb.concepts[cid].contradicts:
                if other in ids:
                    pairs.add(tuple(sorted((cid, other))))
        return [Conflict(first=a, second=b) for a, b in sorted(pairs)]


_DEFAULT: dict[str, Assessor] = {}
_DEFAULT_LOCK = threading.Lock()


def default_assessor(kb_dir: Path | str | None = None) -> Assessor:
    """The process-wide Assessor for a KB directory (built on first use)."""
    key = str(kb_dir or "")
    with _DEFAULT_LOCK:
        if key not in _DEFAULT:
            _DEFAULT[key] = Assessor(load_kb(kb_dir))
        return _DEFAULT[key]


def assess(case: Case | dict[str, object], kb: KnowledgeBase | None = None) -> Assessment:
    """Assess one case on the shipped KB (or on `kb`), reusing the compiled engine."""
    if not isinstance(case, Case):
        case = Case.model_validate(case)
    if kb is None:
        return default_assessor().assess(case)
    key = f"kb:{kb.root}:{kb.version}"
    with _DEFAULT_LOCK:
        if key not in _DEFAULT:
            _DEFAULT[key] = Assessor(kb)
        assessor = _DEFAULT[key]
    return assessor.assess(case)
