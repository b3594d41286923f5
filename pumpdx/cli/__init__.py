"""The `pumpdx` command line. Each subcommand lives in its own module with a
`register(subparsers)` function; exit codes: 0 ok, 1 checks failed, 2 bad input,
3 internal error. Errors are one line on stderr, never a traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import (
    assess_cmd,
    batch_cmd,
    case_cmd,
    demo_cmd,
    explain_cmd,
    kb_cmd,
    log_cmd,
    schema_cmd,
    serve_cmd,
)
from .common import EXIT_BAD_INPUT, EXIT_INTERNAL, CommandError, fail

COMMAND_MODULES = [assess_cmd, explain_cmd, batch_cmd, demo_cmd, case_cmd, schema_cmd, kb_cmd,
                   serve_cmd, log_cmd]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        fail(f"{self.prog}: {message} (see --help)", EXIT_BAD_INPUT)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="pumpdx", description=__doc__.split("\n")[0] if __doc__ else "")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def _version() -> str:
    from importlib import metadata

    try:
        return "pumpdx " + metadata.version("pumpdx")
    except metadata.PackageNotFoundError:
        return "pumpdx (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(args.handler(args))
    except CommandError as exc:
        fail(str(exc), exc.code)
    except KeyboardInterrupt:
        fail("interrupted", EXIT_INTERNAL)
    except BrokenPipeError:
        return 0
    except Exception as exc:
        fail(f"internal error: {type(exc).__name__}: {exc}", EXIT_INTERNAL)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
