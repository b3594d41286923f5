"""Shared fixtures: one Assessor (compiled engine) for the whole test session."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pumpdx.cli import main
from pumpdx.engine.assess import Assessor, default_assessor
from pumpdx.engine.assessment import Assessment
from pumpdx.kb.facts import Case
from pumpdx.kb.loader import KnowledgeBase, default_kb_dir

from .fixtures.pgserver import PostgresServer, PostgresUnavailable

REPO = Path(__file__).resolve().parent.parent
KB_DIR = default_kb_dir()
CASES_DIR = KB_DIR / "cases"
SCENARIOS_DIR = KB_DIR / "scenarios"


@pytest.fixture(scope="session", autouse=True)
def _private_data_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The default decision log (and any other user data) goes to a folder of this test
    session, never to the real user's data folder; subprocesses inherit it."""
    saved = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("xdg-data"))
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("XDG_DATA_HOME", None)
        else:
            os.environ["XDG_DATA_HOME"] = saved


@pytest.fixture(scope="session")
def assessor() -> Assessor:
    return default_assessor()


@pytest.fixture(scope="session")
def kb(assessor: Assessor) -> KnowledgeBase:
    return assessor.kb


@pytest.fixture(scope="session")
def run(assessor: Assessor) -> Any:
    """run(dict) -> Assessment, for tests that build a case inline."""

    def _run(data: dict[str, Any]) -> Assessment:
        return assessor.assess(Case.model_validate(data))

    return _run


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server on 127.0.0.1 for the whole session, stopped at the end.
    Without PostgreSQL the tests that need it are skipped, except in CI (CI=true), where
    scripts/setup.sh --test has installed it and its absence is a failure."""
    try:
        server = PostgresServer()
        server.start()
    except PostgresUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL test server: {exc}")
        pytest.skip(f"PostgreSQL test server: {exc}")
    try:
        yield server
    finally:
        server.stop()


_DATABASES = itertools.count(1)


@pytest.fixture
def pg_url(postgres: PostgresServer) -> str:
    """The URL of a new, empty database on the session's PostgreSQL server."""
    return postgres.create_database(f"pumpdx_test_{next(_DATABASES)}")


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the pumpdx command in this process: (exit code, stdout, stderr)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
