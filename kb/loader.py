"""Load a knowledge-base directory: validate every file, collect every problem.

Layout of a KB directory:
    sources.yaml       the documents rules may cite, with their sections and figures
    parameters.yaml    numeric knowledge (thresholds) with citations
    drugs.yaml         agent -> class, lipophilicity
    signs.yaml         sign -> overdose / withdrawal classification
    concepts/*.yaml    the conclusion catalog
    rules/*.yaml       one file per algorithm
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .facts.drugs import Agent
from .facts.presentation import Sign
from .facts.registry import FactType, build_fact_types
from .issues import KBIssue, KBLoadError, display_path
from .rulecheck import check_rules
from .schema import (
    GENERAL,
    AgentInfo,
    Citation,
    ClinicianViewFile,
    Concept,
    ConceptFile,
    DrugFile,
    Parameter,
    ParameterFile,
    Rule,
    RuleFile,
    SignFile,
    SignInfo,
    SourceFile,
    SourceInfo,
    ViewSection,
)
from .schema_errors import document_loc, friendly, is_union_noise
from .yamlfile import YamlDocument, read_yaml

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class LoadedRule:
    rule: Rule
    algorithm: str
    file: str
    line: int
    order: int


@dataclass(frozen=True)
class Algorithm:
    id: str
    title: str
    file: str
    cite: tuple[Citation, ...]


# Used only for a knowledge base without clinician_view.yaml (test fixtures): kinds in
# their documented order, nothing merged. The shipped KB has its own file.
DEFAULT_VIEW = ClinicianViewFile(
    kind_priority={"urgent_action": 20, "recommendation": 40, "suspected_cause": 50,
                   "warning": 60, "finding": 70, "question": 80},
    sections=[ViewSection(title="URGENT ACTIONS", below=30),
              ViewSection(title="NEXT STEPS", below=50),
              ViewSection(title="SUSPECTED CAUSES", below=60),
              ViewSection(title="WARNINGS", below=70),
              ViewSection(title="FINDINGS", below=1000)],
    detail_from=1000)
VIEW_FILE = "clinician_view.yaml"


@dataclass
class KnowledgeBase:
    root: Path
    version: str
    rules: list[LoadedRule]
    algorithms: dict[str, Algorithm]
    concepts: dict[str, Concept]
    concept_locations: dict[str, tuple[str, int]]
    parameters: dict[str, Parameter]
    agents: dict[str, AgentInfo]
    signs: dict[str, SignInfo]
    sources: dict[str, SourceInfo]
    fact_types: dict[str, FactType]
    files: list[str] = field(default_factory=list)
    view: ClinicianViewFile = DEFAULT_VIEW

    def param_values(self) -> dict[str, Any]:
        return {k: p.value for k, p in self.parameters.items()}

    @cached_property
    def _rules_by_id(self) -> dict[str, LoadedRule]:
        return {lr.rule.id: lr for lr in self.rules}

    def rule(self, rule_id: str) -> LoadedRule:
        """The rule with this id (KeyError when there is none)."""
        return self._rules_by_id[rule_id]



def default_kb_dir() -> Path:
    """The knowledge base shipped with the package."""
    return Path(str(resources.files("pumpdx.kb")))


def kb_files(root: Path) -> list[Path]:
    """Every data file that defines the KB (and so its version), in a fixed order."""
    fixed = [root / n for n in ("sources.yaml", "parameters.yaml", "drugs.yaml", "signs.yaml",
                                VIEW_FILE)]
    concepts = sorted((root / "concepts").glob("*.yaml"))
    rules = sorted((root / "rules").glob("*.yaml"))
    return [p for p in fixed if p.exists()] + concepts + rules


def kb_version(root: Path) -> str:
    digest = hashlib.sha256()
    for path in kb_files(root):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes().replace(b"\r\n", b"\n"))
        digest.update(b"\0")
    return "kb-" + digest.hexdigest()[:12]


def _pydantic_issues(doc: YamlDocument, shown: str, exc: ValidationError) -> list[KBIssue]:
    issues = []
    errors = exc.errors()
    for err in errors:
        if is_union_noise(err, errors):
            continue
        loc = tuple(err["loc"])
        rule_id = ""
        if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
            try:
                rule_id = str(doc.data["rules"][loc[1]].get("id", ""))
            except (KeyError, IndexError, TypeError, AttributeError):
                rule_id = ""
        msg = friendly(err, doc.data) or err["msg"]
        if err["type"] == "extra_forbidden":
            msg = friendly(err, doc.data) or f"unknown key '{loc[-1]}'"
            where = ".".join(str(p) for p in document_loc(loc[:-1]))
        else:
            where = ".".join(str(p) for p in document_loc(loc))
        # union tags dropped ('when', 1, 'fact', ...): `fact` is also a real key, and
        # following it would stop at the wrong line
        issues.append(KBIssue(shown, doc.line_of(document_loc(loc)), rule_id,
                              f"{where}: {msg}" if where else msg))
    return issues


def _load(path: Path, root: Path, model: type[M], issues: list[KBIssue]
          ) -> tuple[M | None, YamlDocument | None]:
    shown = display_path(path, root)
    try:
        doc = read_yaml(path)
    except ValueError as exc:
        text = str(exc)
        line = int(text.split(":")[1]) if text.count(":") >= 2 else 1
        issues.append(KBIssue(shown, line, "", text.split(": ", 1)[1] if ": " in text else text))
        return None, None
    if not isinstance(doc.data, dict):
        issues.append(KBIssue(shown, 1, "", f"expected a mapping at the top of the file "
                                            f"(the {model.__name__} format)"))
        return None, doc
    try:
        return model.model_validate(doc.data), doc
    except ValidationError as exc:
        issues.extend(_pydantic_issues(doc, shown, exc))
        return None, doc


def load_kb(root: Path | str | None = None) -> KnowledgeBase:
    """Load and validate the KB at `root` (default: the shipped one).

    Raises KBLoadError listing every problem, each as file:line: rule-id: message.
    """
    root = Path(root) if root is not None else default_kb_dir()
    if not root.is_dir():
        raise KBLoadError([KBIssue(str(root), 1, "", "knowledge-base directory not found")])
    issues: list[KBIssue] = []

    def need(name: str) -> Path:
        p = root / name
        if not p.exists():
            issues.append(KBIssue(display_path(p, root), 1, "", "required file is missing"))
        return p

    sources_p, params_p, drugs_p, signs_p = (need(n) for n in (
        "sources.yaml", "parameters.yaml", "drugs.yaml", "signs.yaml"))
    if issues:
        raise KBLoadError(issues)
    sources_f, _ = _load(sources_p, root, SourceFile, issues)
    params_f, _ = _load(params_p, root, ParameterFile, issues)
    drugs_f, drugs_doc = _load(drugs_p, root, DrugFile, issues)
    signs_f, signs_doc = _load(signs_p, root, SignFile, issues)

    concepts: dict[str, Concept] = {}
    concept_locations: dict[str, tuple[str, int]] = {}
    for path in sorted((root / "concepts").glob("*.yaml")):
        cf, doc = _load(path, root, ConceptFile, issues)
        if cf is None or doc is None:
            continue
        for i, c in enumerate(cf.concepts):
            where = (display_path(path, root), doc.line_of(("concepts", i)))
            if c.id in concepts:
                first = concept_locations[c.id]
                issues.append(KBIssue(*where, c.id,
                                      f"duplicate concept id (first at {first[0]}:{first[1]})"))
                continue
            concepts[c.id] = c
            concept_locations[c.id] = where
    if not concepts:
        issues.append(KBIssue(display_path(root / "concepts", root), 1, "",
                              "no concept files (concepts/*.yaml)"))

    rule_docs: list[tuple[Path, RuleFile, YamlDocument]] = []
    for path in sorted((root / "rules").glob("*.yaml")):
        rf, doc = _load(path, root, RuleFile, issues)
        if rf is not None and doc is not None:
            rule_docs.append((path, rf, doc))

    sources = dict(sources_f.sources) if sources_f else {}
    parameters = dict(params_f.parameters) if params_f else {}
    agents = dict(drugs_f.agents) if drugs_f else {}
    signs = dict(signs_f.signs) if signs_f else {}
    _check_catalogs(root, agents, drugs_doc, signs, signs_doc, issues)

    algorithms: dict[str, Algorithm] = {}
    rules: list[LoadedRule] = []
    for path, rf, doc in rule_docs:
        shown = display_path(path, root)
        if rf.algorithm in algorithms:
            issues.append(KBIssue(shown, doc.line_of(("algorithm",)), "",
                                  f"algorithm '{rf.algorithm}' is also defined in "
                                  f"{algorithms[rf.algorithm].file}"))
            continue
        algorithms[rf.algorithm] = Algorithm(rf.algorithm, rf.title, shown, tuple(rf.cite))
        for i, rule in enumerate(rf.rules):
            rules.append(LoadedRule(rule, rf.algorithm, shown,
                                    doc.line_of(("rules", i)), len(rules)))

    agent_classes = tuple(sorted({a.agent_class for a in agents.values()}))
    fact_types = build_fact_types(tuple(sorted(algorithms)), tuple(sorted(concepts)),
                                  agent_classes)
    docs = {display_path(p, root): d for p, _, d in rule_docs}
    issues.extend(check_rules(rules, docs, fact_types, concepts, parameters, sources,
                              tuple(sorted(algorithms))))
    issues.extend(_check_citations(concepts, concept_locations, parameters, sources,
                                   display_path(params_p, root)))
    issues.extend(_check_catalog_citations(root, {"drugs.yaml": (agents, drugs_doc),
                                                  "signs.yaml": (signs, signs_doc)}, sources))
    view = DEFAULT_VIEW
    if (root / VIEW_FILE).exists():
        view_f, view_doc = _load(root / VIEW_FILE, root, ClinicianViewFile, issues)
        if view_f is not None and view_doc is not None:
            issues.extend(_check_view(view_f, view_doc, concepts))
            view = view_f
    if issues:
        raise KBLoadError(issues)
    return KnowledgeBase(root=root, version=kb_version(root), rules=rules,
                         algorithms=algorithms, concepts=concepts,
                         concept_locations=concept_locations, parameters=parameters,
                         agents=agents, signs=signs, sources=sources, fact_types=fact_types,
                         files=[display_path(p, root) for p in kb_files(root)], view=view)


def _check_view(view: ClinicianViewFile, doc: YamlDocument,
                concepts: dict[str, Concept]) -> list[KBIssue]:
    """Every concept named in clinician_view.yaml exists; no concept is merged twice."""
    issues: list[KBIssue] = []

    def unknown(loc: tuple[str | int, ...], cid: str) -> None:
        if cid not in concepts:
            issues.append(KBIssue(VIEW_FILE, doc.line_of(loc), cid,
                                  f"unknown concept '{cid}'"))

    for cid in view.priority:
        unknown(("priority", cid), cid)
    for cid in view.short:
        unknown(("short", cid), cid)
    for cid, first in view.after.items():
        unknown(("after", cid), cid)
        for i, other in enumerate(first):
            unknown(("after", cid, i), other)
    merged: dict[str, str] = {}
    for broad, narrow in view.subsumes.items():
        unknown(("subsumes", broad), broad)
        for i, cid in enumerate(narrow):
            unknown(("subsumes", broad, i), cid)
            if cid == broad or cid in view.subsumes:
                issues.append(KBIssue(VIEW_FILE, doc.line_of(("subsumes", broad, i)), cid,
                                      "a subsumed concept cannot itself subsume others"))
            merged.setdefault(cid, broad)  # several broader concepts may restate one
    for gid, group in view.groups.items():
        for i, cid in enumerate(group.members):
            unknown(("groups", gid, "members", i), cid)
            if cid in merged:
                issues.append(KBIssue(VIEW_FILE, doc.line_of(("groups", gid, "members", i)),
                                      cid, f"already merged into '{merged[cid]}'"))
            merged[cid] = gid
    return issues


def _check_catalogs(root: Path, agents: dict[str, AgentInfo], drugs_doc: YamlDocument | None,
                    signs: dict[str, SignInfo], signs_doc: YamlDocument | None,
                    issues: list[KBIssue]) -> None:
    for enum, table, doc, name in ((Agent, agents, drugs_doc, "drugs.yaml"),
                                   (Sign, signs, signs_doc, "signs.yaml")):
        if doc is None:
            continue
        known = {str(m.value) for m in enum}
        for key in sorted(set(table) - known):
            issues.append(KBIssue(name, doc.line_of((next(iter(doc.data)), key)), "",
                                  f"'{key}' is not in the fact vocabulary; allowed: "
                                  + ", ".join(sorted(known))))
        for key in sorted(known - set(table)):
            issues.append(KBIssue(name, 1, "", f"'{key}' is in the fact vocabulary but has no "
                                               f"entry here"))
    classes = {a.agent_class for a in agents.values()} | {GENERAL}
    for sign, info in sorted(signs.items()):
        for key in sorted(set(info.readings) - classes):
            line = signs_doc.line_of(("signs", sign)) if signs_doc is not None else 1
            issues.append(KBIssue("signs.yaml", line, sign,
                                  f"reading for unknown drug class '{key}'; allowed: "
                                  + ", ".join(sorted(classes))))


def citation_problem(c: Citation, sources: dict[str, SourceInfo]) -> str | None:
    """Why a citation points nowhere, or None when it is fine."""
    src = sources.get(c.source)
    if src is None:
        # a knowledge base may rest on domain notes without listing their headings
        return None if c.source == "domain_notes" else f"source '{c.source}' is not in sources.yaml"
    if c.section and c.section not in src.sections:
        return (f"section '{c.section}' does not exist in {c.source}; it has "
                + ", ".join(src.sections))
    if c.figure and c.figure not in src.figures:
        return (f"figure '{c.figure}' does not exist in {c.source}; it has "
                + ", ".join(src.figures))
    return None


def _check_catalog_citations(root: Path,
                             tables: dict[str, tuple[dict[str, AgentInfo] | dict[str, SignInfo],
                                                     YamlDocument | None]],
                             sources: dict[str, SourceInfo]) -> list[KBIssue]:
    issues = []
    for name, (table, doc) in tables.items():
        top = next(iter(doc.data)) if doc is not None and isinstance(doc.data, dict) else ""
        for key, info in table.items():
            cites = info.citations() if isinstance(info, SignInfo) else info.cite
            for i, c in enumerate(cites):
                problem = citation_problem(c, sources)
                if problem:
                    at = (top, key, "cite", i) if i < len(info.cite) else (top, key)
                    line = doc.line_of(at) if doc is not None else 1
                    issues.append(KBIssue(display_path(root / name, root), line, key, problem,
                                          "citation"))
    return issues


def _check_citations(concepts: dict[str, Concept], where: dict[str, tuple[str, int]],
                     parameters: dict[str, Parameter], sources: dict[str, SourceInfo],
                     params_file: str) -> list[KBIssue]:
    issues = []
    for cid, concept in concepts.items():
        for c in concept.cite:
            problem = citation_problem(c, sources)
            if problem:
                issues.append(KBIssue(*where[cid], cid, problem, "citation"))
        for other in concept.contradicts:
            if other not in concepts:
                issues.append(KBIssue(*where[cid], cid,
                                      f"contradicts unknown concept '{other}'"))
        if concept.kind == "question" and not concept.needs:
            issues.append(KBIssue(*where[cid], cid, "a question must say what it `needs`"))
    for pid, param in parameters.items():
        for c in param.cite:
            problem = citation_problem(c, sources)
            if problem:
                issues.append(KBIssue(params_file, 1, pid, problem, "citation"))
    return issues
