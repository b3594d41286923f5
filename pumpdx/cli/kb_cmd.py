"""pumpdx kb ...: tools for guideline authors. Each kb subcommand lives in its own
module (kb_*_cmd.py) with `register(kb_subparsers)`; add new ones to KB_COMMANDS."""

from __future__ import annotations

import argparse
from typing import Any

from . import (
    kb_coverage_cmd,
    kb_diff_cmd,
    kb_facts_cmd,
    kb_graph_cmd,
    kb_lint_cmd,
    kb_schema_cmd,
    kb_test_cmd,
)
from .common import EXIT_BAD_INPUT

KB_COMMANDS: list[Any] = [kb_facts_cmd, kb_lint_cmd, kb_test_cmd, kb_coverage_cmd,
                         kb_diff_cmd, kb_schema_cmd, kb_graph_cmd]


def register(sub: Any) -> None:
    p = sub.add_parser("kb", help="knowledge-base tools for guideline authors")
    kb_sub = p.add_subparsers(dest="kb_command", metavar="KB_COMMAND",
                              parser_class=type(p))
    for module in KB_COMMANDS:
        module.register(kb_sub)
    p.set_defaults(handler=lambda args: _help(p))


def _help(p: argparse.ArgumentParser) -> int:
    p.print_help()
    return EXIT_BAD_INPUT
