"""The decision log: every assessment stored once, by decision id, in SQLite or PostgreSQL.

    with DecisionLog.open(url) as log:          # None: the default SQLite file
        log.record(assessment, source="cli")    # True when new, False when already there
        entry = log.get("dx-0123456789abcdef")

Writing is idempotent (a decision id already in the log is left as it was: the id is a
hash of the knowledge-base version and the case, so the same id means the same
decision) and safe with many writers at once (SQLite in WAL mode with a busy timeout;
PostgreSQL transactions). Every database problem becomes a LogError of one line.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine, and_, create_engine, event, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.schema import CreateIndex, CreateTable

from pumpdx.engine.assessment import Assessment

from .errors import LogError
from .location import LogLocation, default_location, parse_location
from .schema import DECISION_ID, decisions

SOURCE = re.compile(r"[a-z][a-z0-9_-]{0,31}")
BUSY_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 10
BATCH_ROWS = 500
_SCHEMA_LOCK = 0x70756D7078  # PostgreSQL advisory lock taken while creating the table
_COLUMNS = [decisions.c[name] for name in ("decision_id", "logged_at", "kb_version", "engine",
                                           "source", "case_json", "assessment_json")]


class LoggedDecision(BaseModel):
    """One row of the log."""

    decision_id: str
    logged_at: datetime
    kb_version: str
    engine: dict[str, str]
    source: str
    case: dict[str, Any]
    assessment: dict[str, Any]

    def to_assessment(self) -> Assessment:
        """The logged Assessment (LogError when it no longer reads as one)."""
        try:
            return Assessment.model_validate(self.assessment)
        except ValidationError as exc:
            raise LogError(f"decision {self.decision_id}: the logged assessment cannot be "
                           f"read: {exc.errors()[0]['msg']}") from None


def check_decision_id(decision_id: str) -> str:
    """`decision_id` when it has the form of one (dx- and 16 hex digits), else LogError."""
    if not isinstance(decision_id, str) or not DECISION_ID.fullmatch(decision_id):
        shown = repr(decision_id)[:60] if isinstance(decision_id, str) else type(decision_id)
        raise LogError(f"decision id {shown}: not a decision id (expected dx- and 16 "
                       "hexadecimal digits, as printed by pumpdx assess)")
    return decision_id


def utc(moment: datetime) -> datetime:
    """An aware UTC datetime (a naive one is taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class DecisionLog:
    """A connection pool to one log; open with DecisionLog.open(url)."""

    def __init__(self, location: LogLocation, create: bool = True) -> None:
        self.location = location
        self.engine = self._engine(create)
        try:
            if create:
                self._create_table()
            self._check_table(create)
        except BaseException:
            self.engine.dispose()
            raise

    @classmethod
    def open(cls, url: str | None = None, create: bool = True) -> DecisionLog:
        """The log at `url` (see pumpdx.decisionlog.location); `create=False` for reading
        only: a log that does not exist yet is then an error, not a new empty file."""
        return cls(parse_location(url), create)

    def __enter__(self) -> DecisionLog:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    def shown(self) -> str:
        return self.location.shown()

    # -- opening ------------------------------------------------------------------
    def _engine(self, create: bool) -> Engine:
        loc = self.location
        if loc.sqlite_path is None:
            args: dict[str, Any] = {}
            if "connect_timeout" not in loc.url.query:
                args["connect_timeout"] = CONNECT_TIMEOUT_S
            return create_engine(loc.url, connect_args=args, pool_pre_ping=True)
        path = loc.sqlite_path
        if not path.exists():
            if not create:
                raise LogError(f"decision log {path}: no such file (nothing has been logged "
                               "there yet; assessments are logged with --log)")
            self._new_sqlite_file()
        engine = create_engine(loc.url, connect_args={"timeout": BUSY_TIMEOUT_S})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            cursor.execute("PRAGMA journal_mode = WAL")  # concurrent readers and a writer
            cursor.close()

        return engine

    def _new_sqlite_file(self) -> None:
        """Create the SQLite file readable by its owner only (it holds clinical cases);
        only the default data folder is created when missing, never a typed path's."""
        path = self.location.sqlite_path
        assert path is not None
        default = path == default_location().sqlite_path
        if not default and not path.parent.is_dir():
            raise LogError(f"decision log {path}: folder {path.parent} does not exist")
        try:
            if default:  # the user's data folder is made on first use
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        except OSError as exc:
            raise LogError(f"decision log {path}: cannot create: {exc.strerror}") from None

    def _create_table(self) -> None:
        def create() -> None:
            with self.engine.begin() as conn:
                if self.location.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                 {"key": _SCHEMA_LOCK})
                conn.execute(CreateTable(decisions, if_not_exists=True))
                for index in sorted(decisions.indexes, key=lambda i: str(i.name)):
                    conn.execute(CreateIndex(index, if_not_exists=True))

        self._guard(create)

    def _check_table(self, create: bool) -> None:
        """Connect, then read the table's columns: a database without the table, or with
        another table of that name, is named as such (not as a connection problem)."""
        def check() -> str | None:
            with self.engine.connect() as conn:
                try:
                    conn.execute(select(*_COLUMNS).limit(0)).all()
                except SQLAlchemyError as exc:
                    return _reason(exc)
            return None

        problem = self._guard(check)
        if problem is not None:
            hint = "" if create else "; nothing has been logged there yet, or"
            raise LogError(f"decision log {self.shown()}: not a PumpDx decision log{hint} "
                           f"({problem})")

    def _guard(self, work: Any) -> Any:
        """Run `work()`, turning database errors into one line naming the log."""
        try:
            return work()
        except SQLAlchemyError as exc:
            raise LogError(f"decision log {self.shown()}: {_reason(exc)}") from None
        except OSError as exc:
            raise LogError(f"decision log {self.shown()}: {exc.strerror or exc}") from None

    # -- writing ------------------------------------------------------------------
    def record(self, assessment: Assessment, source: str = "cli",
               at: datetime | None = None) -> bool:
        """Store one assessment; True when it was new, False when its id was logged."""
        return bool(self.record_many([assessment], source, at))

    def record_many(self, assessments: Iterable[Assessment], source: str = "cli",
                    at: datetime | None = None) -> int:
        """Store assessments in batches; returns how many were new."""
        if not SOURCE.fullmatch(source):
            raise LogError(f"source {source[:40]!r}: lower-case letters, digits, _ and -, "
                           "at most 32")
        moment = utc(at or datetime.now(UTC))
        new = 0
        batch: list[dict[str, Any]] = []
        for assessment in assessments:
            batch.append(_row(assessment, source, moment))
            if len(batch) >= BATCH_ROWS:
                new += self._insert(batch)
                batch = []
        if batch:
            new += self._insert(batch)
        return new

    def _insert(self, rows: list[dict[str, Any]]) -> int:
        insert = pg_insert if self.location.dialect == "postgresql" else sqlite_insert
        unique = list({r["decision_id"]: r for r in rows}.values())
        stmt = insert(decisions).on_conflict_do_nothing(index_elements=["decision_id"])

        def write() -> int:
            with self.engine.begin() as conn:
                result = conn.execute(stmt.returning(decisions.c.decision_id), unique)
                return len(result.all())

        return int(self._guard(write))

    # -- reading ------------------------------------------------------------------
    def get(self, decision_id: str) -> LoggedDecision | None:
        """The logged decision with this id, or None (LogError for a malformed id)."""
        check_decision_id(decision_id)

        def read() -> Any:
            with self.engine.connect() as conn:
                return conn.execute(select(*_COLUMNS).where(
                    decisions.c.decision_id == decision_id)).first()

        row = self._guard(read)
        return None if row is None else _entry(row)

    def count(self, since: datetime | None = None) -> int:
        query = select(func.count()).select_from(decisions)
        if since is not None:
            query = query.where(decisions.c.logged_at >= utc(since))

        def read() -> int:
            with self.engine.connect() as conn:
                return int(conn.execute(query).scalar_one())

        return int(self._guard(read))

    def decisions(self, since: datetime | None = None, limit: int | None = None,
                  newest_first: bool = False) -> Iterator[LoggedDecision]:
        """Logged decisions in time order (ties by id), read page by page so that memory
        stays flat and no transaction stays open while the caller works."""
        time_col, id_col = decisions.c.logged_at, decisions.c.decision_id
        order = (time_col.desc(), id_col.desc()) if newest_first else (time_col, id_col)
        last: tuple[datetime, str] | None = None
        left = limit
        while left is None or left > 0:
            page = BATCH_ROWS if left is None else min(BATCH_ROWS, left)
            query = select(*_COLUMNS).order_by(*order).limit(page)
            if since is not None:
                query = query.where(time_col >= utc(since))
            if last is not None:
                after = time_col < last[0] if newest_first else time_col > last[0]
                tie = id_col < last[1] if newest_first else id_col > last[1]
                query = query.where(or_(after, and_(time_col == last[0], tie)))

            def read(q: Any = query) -> list[Any]:
                with self.engine.connect() as conn:
                    return list(conn.execute(q).all())

            rows: list[Any] = self._guard(read)
            for row in rows:
                yield _entry(row)
            if len(rows) < page:
                return
            last = (rows[-1].logged_at, rows[-1].decision_id)
            if left is not None:
                left -= len(rows)


def _row(assessment: Assessment, source: str, moment: datetime) -> dict[str, Any]:
    check_decision_id(assessment.decision_id)
    return {
        "decision_id": assessment.decision_id,
        "logged_at": moment,
        "kb_version": assessment.kb_version,
        "engine": json.dumps(assessment.engine, sort_keys=True),
        "source": source,
        "case_json": json.dumps(assessment.case, sort_keys=True),
        "assessment_json": assessment.model_dump_json(),
    }


def _entry(row: Any) -> LoggedDecision:
    try:
        return LoggedDecision(
            decision_id=row.decision_id, logged_at=utc(row.logged_at),
            kb_version=row.kb_version, engine=json.loads(row.engine), source=row.source,
            case=json.loads(row.case_json), assessment=json.loads(row.assessment_json))
    except (ValueError, TypeError, RecursionError) as exc:
        detail = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise LogError(f"decision {str(row.decision_id)[:40]!r}: the logged record is "
                       f"damaged: {detail[:120]}") from None


def _reason(exc: SQLAlchemyError) -> str:
    """The first line of the driver's message (no SQL, no parameters)."""
    orig = getattr(exc, "orig", None)
    message = str(orig if orig is not None else exc).strip()
    first = message.splitlines()[0] if message else type(exc).__name__
    return first[:300]
