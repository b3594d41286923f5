"""Audit views of assessments and of the rulebook."""
