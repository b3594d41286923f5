"""Shared pieces of the command line: error exits, atomic output, case loading."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from pumpdx.engine.inputs import InputError, load_case
from pumpdx.engine.outputs import FILE_MODE, atomic_file, write_file_set
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


def write_atomic(path: Path, data: str | bytes, private: bool = True) -> None:
    """Write a file so that readers never see it half-written; 0600 when it may hold
    clinical data (`private`), else readable by all as the umask allows."""
    mode = FILE_MODE if private else 0o666 & ~_UMASK
    with atomic_file(path, mode) as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)


#: Files that an assessment folder may hold (an older assessment's, replaced as a whole).
OUTPUT_NAMES = frozenset({"assessment.json", "assessment.txt", "reasoning.dot",
                          "reasoning.svg", "reasoning.png", "reasoning.pdf", "report.html",
                          "rulebook.svg"})


def write_outputs(directory: Path, files: dict[str, str | bytes]) -> None:
    """Write the files of one assessment as the whole content of `directory`, all at
    once (pumpdx.engine.outputs.write_file_set): never a mixture with an older set."""
    try:
        write_file_set(directory, files, replaceable=OUTPUT_NAMES)
    except FileExistsError as exc:
        raise CommandError(f"{directory}: {exc.strerror}") from None
    except NotADirectoryError:
        raise CommandError(f"{directory}: not a folder") from None
    except OSError as exc:
        raise CommandError(f"{exc.filename or directory}: cannot write: {exc.strerror}"
                           ) from None


def add_kb_option(parser: Any, folder_positional: bool = False) -> None:
    """`--kb DIR`, the one way every command takes the knowledge-base folder. With
    `folder_positional` an older positional KB_DIR is still accepted (not shown)."""
    parser.add_argument("--kb", type=Path, metavar="DIR",
                        help="knowledge-base folder (default: the shipped one)")
    if folder_positional:
        parser.add_argument("kb_dir", nargs="?", type=Path, help=argparse.SUPPRESS)


def kb_option(args: Any) -> Path | None:
    """The folder given with --kb (or the older positional KB_DIR); None: the shipped KB."""
    positional = getattr(args, "kb_dir", None)
    if positional is not None and args.kb is not None:
        raise CommandError("give the knowledge-base folder once, with --kb DIR")
    folder: Path | None = args.kb if args.kb is not None else positional
    return folder
