"""PumpDx: troubleshooting intrathecal drug delivery systems, with traceable reasoning.

    from pumpdx import assess, Case, load_kb
    result = assess(Case.model_validate(data))
"""

from pumpdx.engine import Assessment, Assessor, InputError, assess, load_case
from pumpdx.kb import KBLoadError, KnowledgeBase, load_kb
from pumpdx.kb.facts import Case

__all__ = ["Assessment", "Assessor", "Case", "InputError", "KBLoadError", "KnowledgeBase",
           "assess", "load_case", "load_kb"]
