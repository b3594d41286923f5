"""`pumpdx case template`: a commented YAML case to fill in.

Built from the input models (kb/casefields), so it always matches what a case accepts:
every field of the sections that matter for the problem, with its unit, allowed values
and meaning in a comment. A line left blank is "unknown" (YAML reads it as null), never
"no". Lines marked REQUIRED must be filled (or their list entry deleted).
"""

from __future__ import annotations

from pumpdx.kb.casefields import CaseField, case_fields
from pumpdx.kb.facts.presentation import Problem

# Sections of a case that the algorithms of each problem read (README: writing a case).
SECTIONS: dict[str, tuple[str, ...]] = {
    "overdose": ("pump", "drugs", "presentation", "interrogation", "reservoir", "labs",
                 "exposures"),
    "withdrawal": ("pump", "drugs", "presentation", "interrogation", "reservoir", "labs",
                   "exposures"),
    "loss_of_therapy": ("pump", "drugs", "presentation", "interrogation", "reservoir",
                        "diagnostic_bolus", "cap_aspiration", "imaging", "labs"),
    "alarm": ("pump", "drugs", "presentation", "audible_alarm", "interrogation", "reservoir"),
    "mri_planned": ("pump", "drugs", "presentation", "exposures", "interrogation"),
    "mri_done": ("pump", "drugs", "presentation", "exposures", "interrogation", "reservoir"),
    "routine_refill": ("pump", "drugs", "presentation", "interrogation", "reservoir"),
    "new_neurological_deficit": ("pump", "drugs", "presentation", "interrogation",
                                 "imaging", "cap_aspiration", "labs"),
    "catheter_tip_mass_suspected": ("pump", "drugs", "presentation", "imaging",
                                    "cap_aspiration"),
    "trial_planning": ("presentation", "trial"),
}
ALL_SECTIONS = ("pump", "drugs", "presentation", "interrogation", "audible_alarm",
                "reservoir", "cap_aspiration", "diagnostic_bolus", "imaging", "exposures",
                "labs", "trial")
TOP = ("case_id", "description", "assessment_date", "other_findings")
LIVE_LISTS = ("drugs",)  # lists written out to fill in; the others as commented examples
COMMENT_COLUMN = 40


def problems() -> tuple[str, ...]:
    return tuple(str(p.value) for p in Problem)


def _hint(f: CaseField) -> str:
    parts = []
    if f.required:
        parts.append("REQUIRED")
    kind = {"choice": "one of", "list of choices": "any of"}.get(f.kind, f.kind)
    if f.allowed:
        parts.append(f"{kind}: {', '.join(f.allowed)}")
    else:
        parts.append(kind + (f" in {f.unit}" if f.unit else "")
                     + (f" ({f.bounds})" if f.bounds else ""))
    if f.meaning:
        parts.append(f.meaning)
    return "; ".join(parts)


def _line(indent: str, key: str, value: str, hint: str) -> str:
    head = f"{indent}{key}:" + (f" {value}" if value else "")
    return f"{head.ljust(COMMENT_COLUMN - 1)} # {hint}"


def _section(fields: list[CaseField], name: str, problem: str | None) -> list[str]:
    top = next(f for f in fields if f.path == name)
    inner = [f for f in fields if f.path.startswith(f"{name}.") or
             f.path.startswith(f"{name}[].")]
    direct = [f for f in inner if f.path.count(".") == 1]
    lines = [f"# -- {name}: {top.meaning}" if top.meaning else f"# -- {name}"]
    if top.kind == "list":
        live = name in LIVE_LISTS
        lines.append(f"{name}:" + ("" if live else " []").ljust(COMMENT_COLUMN - 2 - len(name))
                     + " # one entry per item" + ("; delete the entry if there is none" if live
                                                  else "; to add one: delete [] and the #s"))
        for i, f in enumerate(direct):
            key = f.path.rsplit(".", 1)[-1]
            text = _line("  - " if i == 0 else "    ", key, "", _hint(f))
            lines.append(text if live else "#" + text[1:])
        return lines
    lines.append(f"{name}:")
    for f in direct:
        key = f.path.rsplit(".", 1)[-1]
        value = ""
        if name == "presentation" and key == "problems":
            value = f"[{problem}]" if problem else "[]"
        elif f.kind in ("list of choices", "list"):
            value = "[]"
        elif f.kind == "section":
            value = "{}"
        lines.append(_line("  ", key, value, _hint(f)))
    return lines


def case_template(problem: str | None = None) -> str:
    """The commented YAML template for `problem` (None: every section)."""
    if problem is not None and problem not in problems():
        raise ValueError(f"unknown problem '{problem}'; allowed: {', '.join(problems())}")
    fields = case_fields()
    sections = SECTIONS.get(problem or "", ALL_SECTIONS) if problem else ALL_SECTIONS
    title = f"a case of {problem.replace('_', ' ')}" if problem else "a case"
    out = [f"# PumpDx: {title}. Fill in what you know and leave the rest blank: a blank",
           "# is 'unknown', never 'no'. Units are part of the field names (give plain",
           "# numbers). Lines marked REQUIRED must be filled; delete a list entry you do",
           "# not need. `pumpdx schema --fields` explains every field; check the case with",
           "#   pumpdx assess this-file.yaml",
           ""]
    for key in TOP:
        f = next((x for x in fields if x.path == key), None)
        if f is not None:
            out.append(_line("", key, "", _hint(f)))
    for name in sections:
        out.append("")
        out += _section(fields, name, problem)
    return "\n".join(out) + "\n"
