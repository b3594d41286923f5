"""The decision log on SQLite and on a real PostgreSQL server: every assessment stored once
with its versions, case and assessment; `pumpdx log replay` after a rule change lists
exactly the decisions whose conclusions change; concurrent writers; hostile input."""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import re
import sqlite3
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pumpdx.decisionlog import DecisionLog, LogError
from pumpdx.engine.assess import Assessor
from pumpdx.engine.assessment import Assessment
from pumpdx.engine.inputs import load_case
from pumpdx.kb.facts import Case
from pumpdx.kb.loader import load_kb

from .conftest import CASES_DIR
from .conftest import run_cli as pumpdx
from .fixtures.minikb import mutated_shipped_kb

DECISIONS = 1000
# The rule change replayed: overdose alone, no longer withdrawal, is called a possible
# device or human-factor emergency (7.1). Withdrawal-only decisions lose that conclusion.
RULE_CHANGE = {"rules/triage.yaml": [("where: {kind: {in: [overdose, withdrawal]}}",
                                      "where: {kind: {in: [overdose]}}")]}
LINE_ID = re.compile(r"^  (dx-[0-9a-f]{16}) \(case ", re.M)


# -- shared data: 1,000 assessments made once ----------------------------------------
@pytest.fixture(scope="session")
def thousand(assessor: Assessor) -> list[Assessment]:
    """1,000 distinct decisions on generated cases (bench/gencases.py, the property tests'
    strategies), each with its own case_id so that no two share a decision id."""
    from bench.gencases import generate

    cases = generate(DECISIONS)
    out = [assessor.assess(Case.model_validate({**c, "case_id": f"generated-{i:04d}"}))
           for i, c in enumerate(cases)]
    assert len({a.decision_id for a in out}) == DECISIONS
    return out


@pytest.fixture(scope="session")
def changed_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return mutated_shipped_kb(tmp_path_factory.mktemp("changed"), RULE_CHANGE)


@pytest.fixture(scope="session")
def expected_changes(thousand: list[Assessment], changed_kb: Path) -> set[str]:
    """The decisions whose conclusions or questions differ on the changed rulebook,
    found by assessing every case on it directly."""
    changed = Assessor(load_kb(changed_kb))
    return {a.decision_id for a in thousand
            if changed.assess(Case.model_validate(a.case)).conclusion_ids()
            != a.conclusion_ids()}


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'decisions.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def log_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "log.sqlite3")  # a plain path is a SQLite file
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture(scope="session")
def bundled(assessor: Assessor) -> list[Assessment]:
    return [assessor.assess(load_case(str(p))) for p in sorted(CASES_DIR.glob("*.yaml"))]



def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pumpdx: error: "), err
    assert "Traceback" not in err
    return lines[0]


# -- replay after a rule change --------------------------------------------------------
def test_replay_lists_exactly_the_changed_decisions(
        log_url: str, thousand: list[Assessment], changed_kb: Path,
        expected_changes: set[str], capsys: pytest.CaptureFixture[str]) -> None:
    with DecisionLog.open(log_url) as log:
        assert log.record_many(thousand, source="service") == DECISIONS
        assert log.count() == DECISIONS

    code, out, err = pumpdx(capsys, "log", "replay", "--db", log_url, "--kb", str(changed_kb))

    assert 0 < len(expected_changes) < DECISIONS  # the change matters to some, not all
    assert code == 1, err
    assert set(LINE_ID.findall(out)) == expected_changes
    assert len(LINE_ID.findall(out)) == len(expected_changes)
    assert (f"Decisions: {DECISIONS} replayed, {len(expected_changes)} with different "
            "results") in out
    # Clinically: each change is a withdrawal-only presentation that is no longer called a
    # possible device emergency, and the line names the rule that used to conclude it.
    by_id = {a.decision_id: a for a in thousand}
    for decision_id in expected_changes:
        problems = by_id[decision_id].case["presentation"]["problems"]
        assert "withdrawal" in problems and "overdose" not in problems
    blocks = out.split("\n  dx-")[1:]
    assert len(blocks) == len(expected_changes)
    for block in blocks:
        assert "    - device_emergency_possible (warning) <- triage_device_emergency" in block


def test_replay_on_the_same_knowledge_base_changes_nothing(
        sqlite_url: str, bundled: list[Assessment], capsys: pytest.CaptureFixture[str]) -> None:
    with DecisionLog.open(sqlite_url) as log:
        log.record_many(bundled)
    code, out, _ = pumpdx(capsys, "log", "replay", "--db", sqlite_url)
    assert code == 0
    assert f"Decisions: {len(bundled)} replayed, 0 with different results" in out
    assert not LINE_ID.findall(out)


def test_replay_since_takes_only_later_decisions_and_prints_json(
        sqlite_url: str, thousand: list[Assessment], changed_kb: Path,
        expected_changes: set[str], capsys: pytest.CaptureFixture[str]) -> None:
    changing = [a for a in thousand if a.decision_id in expected_changes][:4]
    early, late = changing[:2], changing[2:]
    with DecisionLog.open(sqlite_url) as log:
        log.record_many(early, at=datetime(2026, 1, 10, 23, 59, tzinfo=UTC))
        log.record_many(late, at=datetime(2026, 1, 11, 0, 0, tzinfo=UTC))
    code, out, _ = pumpdx(capsys, "log", "replay", "--db", sqlite_url, "--kb",
                          str(changed_kb), "--since", "2026-01-11", "--json")
    report = json.loads(out)
    assert code == 1
    assert report["decisions_run"] == 2
    assert {c["path"] for c in report["changed"]} == {a.decision_id for a in late}
    lost = {d["id"] for c in report["changed"] for d in c["lost"]}
    assert "device_emergency_possible" in lost


# -- what is stored ------------------------------------------------------------------
def test_a_decision_is_stored_with_its_versions_case_and_assessment(
        log_url: str, bundled: list[Assessment]) -> None:
    a = bundled[0]
    before = datetime.now(UTC)
    with DecisionLog.open(log_url) as log:
        assert log.record(a, source="cli") is True
        entry = log.get(a.decision_id)
        assert log.get("dx-0000000000000000") is None
    after = datetime.now(UTC)
    assert entry is not None
    assert entry.decision_id == a.decision_id
    assert entry.logged_at.tzinfo is not None
    assert before - timedelta(seconds=1) <= entry.logged_at <= after
    assert entry.kb_version == a.kb_version
    assert entry.engine == a.engine and set(a.engine) >= {"pumpdx", "experta", "python"}
    assert entry.source == "cli"
    assert entry.case == a.case
    assert entry.to_assessment() == a


def test_logging_the_same_decision_again_keeps_the_first_record(
        log_url: str, bundled: list[Assessment]) -> None:
    first = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    with DecisionLog.open(log_url) as log:
        assert log.record_many(bundled, at=first) == len(bundled)
        assert log.record_many([*bundled, *bundled], at=first + timedelta(days=1)) == 0
        assert log.record(bundled[0], source="service") is False
        assert log.count() == len(bundled)
        entry = log.get(bundled[0].decision_id)
        listed = list(log.decisions())
    assert entry is not None and entry.logged_at == first and entry.source == "cli"
    assert [e.decision_id for e in listed] == sorted(a.decision_id for a in bundled)


def _write_concurrently(url: str, assessments: list[Assessment], seed: int) -> int:
    order = list(assessments)
    random.Random(seed).shuffle(order)
    with DecisionLog.open(url) as log:
        return sum(log.record(a, source="service") for a in order)


def test_concurrent_writers_store_each_decision_once(
        log_url: str, thousand: list[Assessment]) -> None:
    """Four processes write the same 60 decisions one by one, in different orders, into a
    log none of them has created yet: every decision is stored once, no writer fails."""
    shared = thousand[:60]
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(4) as pool:
        new = pool.starmap(_write_concurrently, [(log_url, shared, seed) for seed in range(4)])
    assert sum(new) == len(shared)
    with DecisionLog.open(log_url) as log:
        assert log.count() == len(shared)
        assert {e.decision_id for e in log.decisions()} == {a.decision_id for a in shared}


def test_list_and_since_and_limit(sqlite_url: str, bundled: list[Assessment],
                                  capsys: pytest.CaptureFixture[str]) -> None:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    with DecisionLog.open(sqlite_url) as log:
        for i, a in enumerate(bundled):
            log.record(a, at=start + timedelta(days=i))
    code, out, _ = pumpdx(capsys, "log", "list", "--db", sqlite_url, "--limit", "2")
    assert code == 0
    rows = out.splitlines()
    assert rows[0].startswith((start + timedelta(days=len(bundled) - 1)).strftime("%Y-%m-%d"))
    assert bundled[-1].decision_id in rows[0] and bundled[-2].decision_id in rows[1]
    assert rows[2] == f"(2 newest of {len(bundled)}; --limit 0 lists all)"
    code, out, _ = pumpdx(capsys, "log", "list", "--db", sqlite_url, "--since", "2026-05-03",
                          "--json")
    listed = [json.loads(line)["decision_id"] for line in out.splitlines()]
    assert listed == [a.decision_id for a in reversed(bundled[2:])]


def test_assess_log_then_show(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    """`pumpdx assess CASE --log` stores the decision in the user's data folder (owner-only
    file); `pumpdx log show ID` gives the same conclusions back."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    case = str(CASES_DIR / "maino_fentanyl_overinfusion.yaml")
    code, out, err = pumpdx(capsys, "assess", case, "--json", "--log")
    assert code == 0
    assessed = json.loads(out)
    db = tmp_path / "data" / "pumpdx" / "decisions.sqlite3"
    assert f"logged {assessed['decision_id']} ({db})" in err
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700

    code, out, _ = pumpdx(capsys, "log", "show", assessed["decision_id"])
    assert code == 0
    assert "Logged " in out and "by cli" in out
    assert "ow_overdose_opioid_naloxone" in out  # the opioid overdose gets naloxone
    code, out, _ = pumpdx(capsys, "log", "show", assessed["decision_id"], "--json")
    shown = json.loads(out)
    assert shown["assessment"]["conclusions"] == assessed["conclusions"]
    code, out, err = pumpdx(capsys, "assess", case, "--log")
    assert code == 0 and "already in the log" in err


# -- hostile input -------------------------------------------------------------------
@pytest.mark.parametrize("url, says", [
    ("mysql://root@127.0.0.1/db", "'mysql' is not supported"),
    ("postgresql+psycopg2://u@127.0.0.1/db", "is not supported"),
    ("sqlite://", "sqlite needs a file"),
    ("sqlite:///:memory:", "sqlite needs a file"),
    ("postgresql://u@127.0.0.1:1/db?options=-c%20log_statement%3Dall",
     "option 'options' is not allowed"),
    ("postgresql://u@127.0.0.1/", "name the database"),
    ("postgresql://u@127.0.0.1:99999/db", "port 99999 is out of range"),
    ("postgresql://u@127.0.0.1:abc/db", "not a database URL"),
    ("log\x1b[31m.db", "control characters are not allowed"),
    ("x" * 3000, "at most 2000"),
    ("/no/such/folder/log.db", "does not exist"),
])
def test_bad_log_urls_give_one_line_and_exit_2(
        url: str, says: str, capsys: pytest.CaptureFixture[str]) -> None:
    case = str(CASES_DIR / "maino_fentanyl_overinfusion.yaml")
    code, out, err = pumpdx(capsys, "assess", case, "--log", url)
    assert code == 2 and out == ""  # nothing printed without its log entry
    assert says in one_line_error(err)
    assert not Path("/no/such/folder").exists()


def test_unreachable_postgresql_hides_the_password(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, _, err = pumpdx(capsys, "log", "list", "--db",
                          f"postgresql://clinic:s3cret@127.0.0.1:{port}/pumpdx")
    line = one_line_error(err)
    assert code == 2 and "s3cret" not in line and "clinic:***@127.0.0.1" in line


@pytest.mark.parametrize("args, says", [
    (["log", "show", "dx-12"], "not a decision id"),
    (["log", "show", "../../etc/passwd"], "not a decision id"),
    (["log", "show", "dx-0123456789ABCDEF"], "not a decision id"),
    (["log", "show", "dx-0123456789abcdef' OR 1=1 --"], "not a decision id"),
    (["log", "show", "dx-0123456789abcdef"], "not in the decision log"),
    (["log", "list", "--since", "yesterday"], "not a date or time"),
    (["log", "list", "--since", "2026-02-30"], "not a date or time"),
    (["log", "list", "--limit", "-1"], "--limit -1"),
    (["log", "replay", "--since", "2026-01-01T25:00"], "not a date or time"),
])
def test_bad_ids_and_options_give_one_line_and_exit_2(
        args: list[str], says: str, sqlite_url: str, bundled: list[Assessment],
        capsys: pytest.CaptureFixture[str]) -> None:
    with DecisionLog.open(sqlite_url) as log:
        log.record_many(bundled)
    code, out, err = pumpdx(capsys, *args, "--db", sqlite_url)
    assert code == 2 and out == ""
    assert says in one_line_error(err)


def test_files_that_are_not_a_decision_log(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n" * 100)
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE pumpdx_decisions (id INTEGER)")
    for db, says in ((text, "file is not a database"),
                     (tmp_path / "missing.sqlite3", "no such file"),
                     (tmp_path, "not a file"),
                     (other, "not a PumpDx decision log")):
        code, out, err = pumpdx(capsys, "log", "replay", "--db", str(db))
        assert code == 2 and out == "", db
        assert says in one_line_error(err)
    assert not (tmp_path / "missing.sqlite3").exists()  # reading never creates a log


def test_damaged_or_outdated_records_are_reported_not_fatal(
        tmp_path: Path, bundled: list[Assessment], capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "log.sqlite3"
    with DecisionLog.open(str(db)) as log:
        log.record_many(bundled[:3])
    damaged, outdated = bundled[0].decision_id, bundled[1].decision_id
    case = dict(bundled[1].case)
    case["reservoir_volume_cc"] = 5  # a field the current vocabulary does not have
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE pumpdx_decisions SET assessment_json = '{\"decision_id\": 1}' "
                     "WHERE decision_id = ?", (damaged,))
        conn.execute("UPDATE pumpdx_decisions SET case_json = ? WHERE decision_id = ?",
                     (json.dumps(case), outdated))
    code, out, _ = pumpdx(capsys, "log", "replay", "--db", str(db))
    assert code == 1
    assert set(LINE_ID.findall(out)) == {damaged, outdated}
    assert "ERROR cannot be replayed: decision " + damaged in out
    assert "unknown field 'reservoir_volume_cc'" in out
    assert "Decisions: 3 replayed, 2 with different results" in out
    code, out, err = pumpdx(capsys, "log", "show", damaged, "--db", str(db))
    assert code == 2 and "the logged assessment cannot be read" in one_line_error(err)


def test_record_refuses_a_forged_decision_id(sqlite_url: str, bundled: list[Assessment]) -> None:
    forged = bundled[0].model_copy(update={"decision_id": "dx-1; DROP TABLE x"})
    with DecisionLog.open(sqlite_url) as log, pytest.raises(LogError, match="not a decision"):
        log.record(forged)


@pytest.fixture
def no_pg_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in list(os.environ):
        if key.startswith("PG"):
            monkeypatch.delenv(key)
    yield


def test_show_on_postgresql(pg_url: str, bundled: list[Assessment], no_pg_env: None,
                            capsys: pytest.CaptureFixture[str]) -> None:
    with DecisionLog.open(pg_url) as log:
        log.record(bundled[2], source="service")
    code, out, _ = pumpdx(capsys, "log", "show", bundled[2].decision_id, "--db", pg_url,
                          "--json")
    assert code == 0
    record: dict[str, Any] = json.loads(out)
    assert record["source"] == "service" and record["case"] == bundled[2].case
