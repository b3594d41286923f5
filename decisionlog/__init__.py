"""The decision log: every assessment made through the service or `pumpdx assess --log`,
stored with its decision id, time (UTC), knowledge-base and engine versions, case and
assessment, in SQLite (default) or PostgreSQL, and replayed on a changed knowledge base.
"""

from .errors import LogError
from .location import LogLocation, data_dir, default_location, parse_location
from .replay import ReplayReport, render_replay, replay, replay_decision
from .store import DecisionLog, LoggedDecision, check_decision_id

__all__ = ["DecisionLog", "LogError", "LogLocation", "LoggedDecision", "ReplayReport",
           "check_decision_id", "data_dir", "default_location", "parse_location",
           "render_replay", "replay", "replay_decision"]
