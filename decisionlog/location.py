"""Where the decision log lives: a database URL or a file path, checked before use.

Accepted: nothing (the default SQLite file in the user's data folder), a file path, a
`sqlite:///PATH` URL, or a `postgresql://` URL (also `postgres://` and
`postgresql+psycopg://`; the psycopg 3 driver is always used). Anything else is refused
with one line that says what is allowed. Passwords never appear in messages: leave them
out of the URL and let libpq read PGPASSWORD or ~/.pgpass.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from .errors import LogError

MAX_URL_CHARS = 2000
DEFAULT_FILE = "decisions.sqlite3"
# libpq settings a site may need to reach its server; nothing that runs code or changes
# what the server does for the session.
POSTGRES_OPTIONS = frozenset({"sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl",
                              "connect_timeout", "application_name", "target_session_attrs",
                              "channel_binding", "gssencmode", "krbsrvname"})
ALLOWED = ("a file path, sqlite:///PATH, or postgresql://USER@HOST[:PORT]/DATABASE")


@dataclass(frozen=True)
class LogLocation:
    """A checked database location: the SQLAlchemy URL and how to name it to a person."""

    url: URL
    sqlite_path: Path | None = None

    @property
    def dialect(self) -> str:
        return "sqlite" if self.sqlite_path is not None else "postgresql"

    def shown(self) -> str:
        if self.sqlite_path is not None:
            return str(self.sqlite_path)
        return self.url.set(drivername="postgresql").render_as_string(hide_password=True)


def data_dir() -> Path:
    """$XDG_DATA_HOME/pumpdx, or ~/.local/share/pumpdx (a relative XDG_DATA_HOME is
    ignored, as the XDG specification says)."""
    xdg = os.environ.get("XDG_DATA_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".local" / "share"
    return base / "pumpdx"


def default_location() -> LogLocation:
    path = data_dir() / DEFAULT_FILE
    return LogLocation(make_url(f"sqlite:///{path}"), path)


def printable(text: str) -> str:
    """`text` with every non-printable character escaped (safe to print on one line)."""
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text)


def parse_location(text: str | None) -> LogLocation:
    """The log location named by `text` (None or "" = the default file)."""
    if text is None or text == "":
        return default_location()
    if len(text) > MAX_URL_CHARS:
        raise LogError(f"decision log URL: {len(text)} characters; at most {MAX_URL_CHARS} "
                       "are allowed")
    if not text.isprintable():
        raise LogError(f"decision log URL '{printable(text)}': control characters are not "
                       f"allowed; give {ALLOWED}")
    if "://" not in text:
        return _sqlite_file(Path(text))
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):
        raise LogError(f"decision log URL: not a database URL; give {ALLOWED}") from None
    backend = url.get_backend_name()
    driver = url.get_driver_name() if "+" in url.drivername else ""
    if backend == "sqlite" and not driver:
        if url.host or url.query or url.username or url.password:
            raise LogError("decision log URL: a sqlite URL names a file only "
                           "(sqlite:///relative/path or sqlite:////absolute/path)")
        if not url.database or url.database == ":memory:":
            raise LogError("decision log URL: sqlite needs a file (an in-memory log would be "
                           "lost at exit)")
        return _sqlite_file(Path(url.database))
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        return _postgres(url)
    name = url.drivername
    raise LogError(f"decision log URL: database '{printable(name)}' is not supported; give "
                   f"{ALLOWED}")


def _sqlite_file(path: Path) -> LogLocation:
    if str(path).strip() == "" or str(path) == ":memory:":
        raise LogError(f"decision log: empty file name; give {ALLOWED}")
    path = path.expanduser()
    if path.exists() and not path.is_file():
        raise LogError(f"decision log {path}: not a file")
    return LogLocation(URL.create("sqlite", database=str(path)), path)


def _postgres(url: URL) -> LogLocation:
    if not url.database:
        raise LogError("decision log URL: name the database (postgresql://USER@HOST/DATABASE)")
    unknown = sorted(set(url.query) - POSTGRES_OPTIONS)
    if unknown:
        raise LogError(f"decision log URL: option '{printable(unknown[0])}' is not allowed; "
                       f"allowed: {', '.join(sorted(POSTGRES_OPTIONS))}")
    for key, value in url.query.items():
        if not isinstance(value, str):
            raise LogError(f"decision log URL: option {key!r} is given more than once")
    if url.port is not None and not 0 < url.port < 65536:
        raise LogError(f"decision log URL: port {url.port} is out of range (1-65535)")
    return LogLocation(url.set(drivername="postgresql+psycopg"))
