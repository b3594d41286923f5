"""The PumpDx engine: compile the knowledge base to experta, run cases, record traces."""

from .assess import Assessor, assess, default_assessor
from .assessment import Assessment, Conclusion, Question
from .inputs import InputError, load_case
from .trace import Firing, Trace, TraceFact

__all__ = ["Assessment", "Assessor", "Conclusion", "Firing", "InputError", "Question",
           "Trace", "TraceFact", "assess", "default_assessor", "load_case"]
