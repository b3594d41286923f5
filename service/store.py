"""A bounded in-memory store of recent assessments (for GET /reports/{decision_id})."""

from __future__ import annotations

import threading
from collections import OrderedDict

from pumpdx.engine.assessment import Assessment


class RecentAssessments:
    """The last `size` assessments of this process, newest kept; oldest dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, Assessment] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, assessment: Assessment) -> None:
        with self._lock:
            self._items[assessment.decision_id] = assessment
            self._items.move_to_end(assessment.decision_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get(self, decision_id: str) -> Assessment | None:
        with self._lock:
            return self._items.get(decision_id)
