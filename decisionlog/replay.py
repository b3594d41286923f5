"""Replay logged decisions on the current knowledge base (`pumpdx log replay`).

Each logged case is assessed again and compared with the logged assessment exactly as
`pumpdx kb diff` compares two rulebooks (pumpdx.engine.kbdiff.case_delta): the
conclusions and questions gained (+) and lost (-), with the rules that derive them. A
decision whose case no longer validates, or whose record cannot be read, is reported
with an error instead. Only decisions that change are kept, so memory stays bounded by
the changes, not by the size of the log.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from pydantic import BaseModel

from pumpdx.engine.assess import Assessor
from pumpdx.engine.casesuite import CaseRun, SuiteItem, run_item
from pumpdx.engine.inputs import InputError, case_from_data
from pumpdx.engine.kbdiff import CaseDelta, case_delta, render_case_deltas

from .errors import LogError
from .location import printable
from .store import DecisionLog, LoggedDecision


class ReplayReport(BaseModel):
    log: str
    kb_version: str
    kb_dir: str
    since: datetime | None = None
    logged_kb_versions: dict[str, int]
    decisions_run: int
    changed: list[CaseDelta]


def replay_decision(entry: LoggedDecision, assessor: Assessor) -> CaseDelta:
    """The difference between a logged decision and the same case assessed now."""
    case_id = entry.case.get("case_id")
    shown_id = printable(case_id) if isinstance(case_id, str) and case_id else entry.decision_id
    item = SuiteItem(path=entry.decision_id, id=shown_id, kind="case")
    try:
        logged = entry.to_assessment()
        item.case = case_from_data(entry.case, "the logged case")
    except (LogError, InputError) as exc:
        item.error = f"cannot be replayed: {exc}"
        return case_delta(CaseRun(item), CaseRun(item))
    return case_delta(CaseRun(item, logged), run_item(assessor, item))


def replay(log: DecisionLog, assessor: Assessor, since: datetime | None = None
           ) -> ReplayReport:
    """Replay every decision logged since `since` (all of them without)."""
    versions: Counter[str] = Counter()
    changed: list[CaseDelta] = []
    run = 0
    for entry in log.decisions(since=since):
        run += 1
        versions[entry.kb_version] += 1
        delta = replay_decision(entry, assessor)
        if delta.changed():
            changed.append(delta)
    return ReplayReport(log=log.shown(), kb_version=assessor.kb.version,
                        kb_dir=str(assessor.kb.root), since=since,
                        logged_kb_versions=dict(sorted(versions.items())),
                        decisions_run=run, changed=changed)


def render_replay(report: ReplayReport) -> str:
    """The replay in the form of `pumpdx kb diff`'s case section."""
    since = f" logged since {report.since.isoformat()}" if report.since else ""
    made_on = ", ".join(f"{v} ({n})" for v, n in report.logged_kb_versions.items())
    out = [f"Replay of the decision log {report.log}{since} on knowledge base "
           f"{report.kb_version} ({report.kb_dir})",
           f"Logged on: {made_on or 'nothing logged'}",
           "",
           f"Decisions: {report.decisions_run} replayed, {len(report.changed)} with "
           "different results"]
    out += render_case_deltas(report.changed)
    return "\n".join(out) + "\n"
