"""Shared pieces of the command line: error exits, atomic output, case loading."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import NoReturn

from pumpdx.engine.inputs import InputError, load_case
from pumpdx.kb.facts import Case
from pumpdx.kb.issues import KBLoadError

_UMASK = os.umask(0)
os.umask(_UMASK)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3


class CommandError(Exception):
    def __init__(self, message: str, code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.code = code


def fail(message: str, code: int) -> NoReturn:
    """Print the error (one line per problem, each prefixed) and exit with `code`."""
    for line in message.split("\n"):
        print(f"pumpdx: error: {line}", file=sys.stderr)
    raise SystemExit(code)


def read_case(source: str) -> Case:
    try:
        return load_case(source)
    except InputError as exc:
        # every problem of an invalid case, one line each (they are one line by design)
        raise CommandError("\n".join(exc.problems)) from None


def kb_error(exc: KBLoadError) -> CommandError:
    return CommandError(f"knowledge base: {exc}")


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write a file so that readers never see it half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs are ordinary files
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_outputs(directory: Path, files: dict[str, str | bytes]) -> None:
    """Write every output only after all of them were produced in memory."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"{directory}: cannot create output folder: {exc.strerror}") from None
    if not directory.is_dir():
        raise CommandError(f"{directory}: not a folder")
    for name, data in files.items():
        try:
            write_atomic(directory / name, data)
        except OSError as exc:
            raise CommandError(f"{directory / name}: cannot write: {exc.strerror}") from None
