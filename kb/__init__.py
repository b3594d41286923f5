"""The PumpDx knowledge base: fact vocabulary, rule format, rules, concepts, parameters."""

from .issues import KBIssue, KBLoadError
from .loader import KnowledgeBase, default_kb_dir, load_kb

__all__ = ["KBIssue", "KBLoadError", "KnowledgeBase", "default_kb_dir", "load_kb"]
