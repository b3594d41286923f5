"""The table of the decision log, the same on SQLite and PostgreSQL.

One row per decision. The case, the assessment and the engine versions are stored as
JSON text exactly as PumpDx wrote them (cast to jsonb in PostgreSQL to query them).
`logged_at` is UTC; `source` says what made the assessment ("cli", "service", ...).
"""

from __future__ import annotations

import re

from sqlalchemy import Column, DateTime, Index, MetaData, String, Table, Text

DECISION_ID = re.compile(r"dx-[0-9a-f]{16}")
TABLE = "pumpdx_decisions"

metadata = MetaData()

decisions = Table(
    TABLE, metadata,
    Column("decision_id", String(32), primary_key=True),
    Column("logged_at", DateTime(timezone=True), nullable=False),
    Column("kb_version", String(64), nullable=False),
    Column("engine", Text, nullable=False),
    Column("source", String(32), nullable=False),
    Column("case_json", Text, nullable=False),
    Column("assessment_json", Text, nullable=False),
    Index(f"ix_{TABLE}_logged_at", "logged_at", "decision_id"),
)
