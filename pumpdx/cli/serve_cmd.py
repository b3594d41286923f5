"""pumpdx serve: the HTTP service (CDS Hooks, POST /assess, reports, consultation page)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pumpdx.kb.issues import KBLoadError

from .common import EXIT_OK, CommandError, kb_error


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the HTTP service: CDS Hooks, /assess, consultation "
                                     "page")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=_count(1, 65535), default=8080, help="port (default 8080)")
    p.add_argument("--public-url", help="URL clients use to reach the service (the JWT "
                                        "audience and card links); default http://HOST:PORT")
    p.add_argument("--insecure-dev", action="store_true",
                   help="turn authentication OFF (local development only)")
    p.add_argument("--jwks", type=Path, help="JSON file: the JWK Set of the trusted clients")
    p.add_argument("--issuer", action="append", default=[],
                   help="a trusted JWT issuer (repeatable)")
    p.add_argument("--allow-jku", action="append", default=[],
                   help="a JWK Set URL a token may name in its jku header (repeatable)")
    p.add_argument("--fhir-server", action="append", default=[],
                   help="a FHIR server the service may fetch from (repeatable; default any "
                        "named by an authenticated call)")
    p.add_argument("--kb", type=Path, help="knowledge-base folder (default: the shipped one)")
    p.add_argument("--workers", type=_count(1, 64), default=1,
                   help="worker processes (default 1)")
    p.add_argument("--max-body-bytes", type=_count(1_000, 100_000_000), default=1_000_000,
                   help="largest request body (default 1000000)")
    p.add_argument("--rate-limit", type=_count(0, 10_000_000), default=600,
                   help="requests per minute per client and worker (default 600; 0: off)")
    p.add_argument("--report-store", type=_count(1, 1_000_000), default=1000,
                   help="recent assessments kept for /reports (default 1000)")
    p.add_argument("--db", metavar="URL",
                   help="the decision log every assessment is stored in: a file path, "
                        "sqlite:///PATH or postgresql://USER@HOST/DB (default: the SQLite "
                        "file in the user's data folder; see docs/decision-log.md)")
    p.set_defaults(handler=run)


def _count(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {low}-{high}, got {value}")
        return value

    return parse


def _read_jwks(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CommandError(f"{path}: cannot read: {exc.strerror}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise CommandError(f"{path}: not a JSON JWK Set: {str(exc)[:200]}") from None
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise CommandError(f"{path}: a JWK Set is an object with a 'keys' list")
    return data


def run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from pumpdx.decisionlog import parse_location
    from pumpdx.service.config import ServiceConfig
    from pumpdx.service.server import check_config, run_server

    jwks = _read_jwks(args.jwks) if args.jwks is not None else None
    try:
        config = ServiceConfig(
            host=args.host, port=args.port, public_url=args.public_url,
            insecure_dev=args.insecure_dev, jwks=jwks, issuers=args.issuer,
            allowed_jku=args.allow_jku, fhir_servers=args.fhir_server, kb_dir=args.kb,
            workers=args.workers, max_body_bytes=args.max_body_bytes,
            rate_limit_per_minute=args.rate_limit, report_store_size=args.report_store,
            log_db=args.db)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise CommandError(f"serve: {err['msg'].removeprefix('Value error, ')}") from None
    try:
        check_config(config)
    except KBLoadError as exc:
        raise kb_error(exc) from None
    except ValueError as exc:
        raise CommandError(f"serve: {exc}") from None
    print(f"pumpdx: decision log: {parse_location(config.log_db).shown()}", file=sys.stderr)
    run_server(config)
    return EXIT_OK
