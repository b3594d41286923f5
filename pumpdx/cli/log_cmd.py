"""pumpdx log list|show|replay: read the decision log and replay it on the current
knowledge base.

Every subcommand takes --db URL (default: the SQLite file in the user's data folder,
$XDG_DATA_HOME/pumpdx/decisions.sqlite3 or ~/.local/share/pumpdx/decisions.sqlite3).
`replay` exits 0 when no logged decision would change, 1 when at least one would (or
could not be replayed), 2 on bad input (URL, ID, date) or an unreadable log.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pumpdx.decisionlog import DecisionLog, LogError, LoggedDecision
from pumpdx.decisionlog.store import check_decision_id, utc
from pumpdx.engine.assess import default_assessor
from pumpdx.kb.issues import KBLoadError
from pumpdx.viz.textview import format_assessment

from .common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, CommandError, kb_error

DB_HELP = ("the decision log: a file path, sqlite:///PATH or postgresql://USER@HOST/DB "
           "(default: the SQLite file in the user's data folder)")
SINCE_HELP = "only decisions logged at or after this time (YYYY-MM-DD or ISO 8601; UTC)"


def register(sub: Any) -> None:
    p = sub.add_parser("log", help="the decision log: list, show and replay logged decisions",
                       description=__doc__)
    log_sub = p.add_subparsers(dest="log_command", metavar="LOG_COMMAND",
                               parser_class=type(p))

    lp = log_sub.add_parser("list", help="logged decisions, newest first")
    lp.add_argument("--since", metavar="DATE", help=SINCE_HELP)
    lp.add_argument("--limit", type=int, default=100, metavar="N",
                    help="at most N decisions (default 100; 0 for all)")
    lp.add_argument("--json", action="store_true", help="one JSON object per line")
    lp.add_argument("--db", metavar="URL", help=DB_HELP)
    lp.set_defaults(handler=run_list)

    sp = log_sub.add_parser("show", help="one logged decision with its assessment")
    sp.add_argument("decision_id", metavar="ID", help="decision id (dx-...)")
    sp.add_argument("--json", action="store_true", help="print the whole logged record")
    sp.add_argument("--db", metavar="URL", help=DB_HELP)
    sp.set_defaults(handler=run_show)

    rp = log_sub.add_parser(
        "replay", help="re-run logged decisions on the current knowledge base and list "
        "every one whose conclusions would change (exit 1 when any would)")
    rp.add_argument("--since", metavar="DATE", help=SINCE_HELP)
    rp.add_argument("--kb", type=Path, help="knowledge-base folder (default: the shipped one)")
    rp.add_argument("--json", action="store_true", help="print JSON")
    rp.add_argument("--db", metavar="URL", help=DB_HELP)
    rp.set_defaults(handler=run_replay)
    p.set_defaults(handler=lambda args: _help(p))


def _help(p: argparse.ArgumentParser) -> int:
    p.print_help()
    return EXIT_BAD_INPUT


def parse_since(text: str | None) -> datetime | None:
    """A --since value as an aware UTC time (a date is its midnight, UTC)."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        return utc(datetime.fromisoformat(text))
    except (ValueError, OverflowError):
        raise CommandError(f"--since {text[:40]!r}: not a date or time; give YYYY-MM-DD or "
                           "ISO 8601 such as 2026-12-01T08:00:00Z (UTC when no offset "
                           "is given)") from None


def open_log(url: str | None) -> DecisionLog:
    try:
        return DecisionLog.open(url, create=False)
    except LogError as exc:
        raise CommandError(str(exc)) from None


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _summary(entry: LoggedDecision) -> str:
    conclusions = entry.assessment.get("conclusions")
    questions = entry.assessment.get("questions")
    kinds = [c.get("kind") for c in conclusions if isinstance(c, dict)] \
        if isinstance(conclusions, list) else []
    urgent = kinds.count("urgent_action")
    asked = len(questions) if isinstance(questions, list) else 0
    return (f"{urgent} urgent, {len(kinds) - urgent} other, {asked} open "
            f"question{'' if asked == 1 else 's'}")


def run_list(args: argparse.Namespace) -> int:
    since = parse_since(args.since)
    if args.limit < 0:
        raise CommandError(f"--limit {args.limit}: give 0 (all) or a positive number")
    with open_log(args.db) as log:
        try:
            shown = 0
            for entry in log.decisions(since=since, limit=args.limit or None,
                                       newest_first=True):
                shown += 1
                if args.json:
                    print(json.dumps({"decision_id": entry.decision_id,
                                      "logged_at": entry.logged_at.isoformat(),
                                      "kb_version": entry.kb_version,
                                      "engine": entry.engine, "source": entry.source}))
                else:
                    print(f"{_stamp(entry.logged_at)}  {entry.decision_id}  "
                          f"{entry.kb_version}  {entry.source:<8} {_summary(entry)}")
            if not args.json:
                total = log.count(since)
                if shown < total:
                    print(f"({shown} newest of {total}; --limit 0 lists all)")
                elif total == 0:
                    print("no decisions logged" + (" since then" if since else ""))
        except LogError as exc:
            raise CommandError(str(exc)) from None
    return EXIT_OK


def run_show(args: argparse.Namespace) -> int:
    try:
        check_decision_id(args.decision_id)
    except LogError as exc:
        raise CommandError(str(exc)) from None
    with open_log(args.db) as log:
        try:
            entry = log.get(args.decision_id)
            if entry is None:
                raise CommandError(f"decision {args.decision_id}: not in the decision log "
                                   f"{log.shown()}")
            if args.json:
                print(entry.model_dump_json(indent=2))
                return EXIT_OK
            assessment = entry.to_assessment()
        except LogError as exc:
            raise CommandError(str(exc)) from None
    print(f"Logged {_stamp(entry.logged_at)} by {entry.source}; engine "
          + ", ".join(f"{k} {v}" for k, v in sorted(entry.engine.items())))
    kb = default_assessor().kb
    # An audit view: every item, with the rules and firings that drew it.
    print(format_assessment(assessment, kb if kb.version == entry.kb_version else None,
                            explain=True, all_items=True), end="")
    return EXIT_OK


def run_replay(args: argparse.Namespace) -> int:
    from pumpdx.decisionlog import render_replay, replay

    since = parse_since(args.since)
    try:
        assessor = default_assessor(args.kb)
    except KBLoadError as exc:
        raise kb_error(exc) from None
    with open_log(args.db) as log:
        try:
            report = replay(log, assessor, since)
        except LogError as exc:
            raise CommandError(str(exc)) from None
    if args.json:
        print(report.model_dump_json(indent=2))
    else:
        print(render_replay(report), end="")
    return EXIT_FAILED if report.changed else EXIT_OK
