"""The consultation page at `/`: one self-contained HTML file (inline CSS and script, no
fetch but its own service's POST /assess), with a form built from the Case schema and
grouped as the review's steps."""

from __future__ import annotations

import html
from functools import cache
from importlib import resources
from typing import Any

from pumpdx.kb.facts import Case
from pumpdx.kb.loader import KnowledgeBase

# The review's steps (section 7) and the case sections each one records.
STEPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("step-1", "Step 1 · Triage: why the patient is here (review 7.1, 3)", ("presentation",)),
    ("step-2", "Step 2 · Bedside assessment and pump interrogation (review 7.2, 2, 2.1)",
     ("pump", "drugs", "interrogation", "audible_alarm")),
    ("step-3", "Step 3 · Reservoir volume reconciliation (review 7.3, 5.1)",
     ("assessment_date", "reservoir")),
    ("step-5", "Step 5 · Catheter access port aspiration and diagnostic bolus (review 7.5, "
               "7.10)", ("cap_aspiration", "diagnostic_bolus")),
    ("step-6", "Step 6 · Imaging and external exposures (review 7.6, 7.7, 6, 4)",
     ("imaging", "exposures")),
    ("labs", "Laboratory studies (review 3.3)", ("labs",)),
    ("trial", "Intrathecal trial planning (trial chapter)", ("trial",)),
    ("case", "About this case (free text, not used by the rules)",
     ("case_id", "description", "other_findings")),
)
ITEM = "__i__"
# Nothing but the page itself and its own service: no fonts, images or scripts to fetch.
CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
       "connect-src 'self'; img-src 'none'; form-action 'none'")


def e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _label(name: str) -> str:
    return name.replace("_", " ")


class _Form:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.defs: dict[str, Any] = schema.get("$defs", {})

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in node:
            return dict(self.defs[node["$ref"].split("/")[-1]])
        options = [o for o in node.get("anyOf", []) if o.get("type") != "null"]
        if len(options) == 1:
            merged = {k: v for k, v in node.items() if k != "anyOf"}
            merged.update(self.resolve(options[0]))
            return merged
        return node

    def field(self, path: str, name: str, node: dict[str, Any], required: bool) -> str:
        spec = self.resolve(node)
        fid = "f-" + path.replace(".", "-")
        label = _label(name) + (" (required)" if required else "")
        help_text = spec.get("description") or node.get("description")
        hint = f'<span class="hint">{e(help_text)}</span>' if help_text else ""
        kind = spec.get("type")
        if kind == "object" or "properties" in spec:
            return self.section(path, name, spec)
        if kind == "array":
            items = self.resolve(spec.get("items", {}))
            if "enum" in items:
                boxes = "".join(
                    f'<label class="check"><input type="checkbox" data-path="{e(path)}" '
                    f'data-kind="enum-list" value="{e(v)}" id="{e(fid)}-{e(v)}"> '
                    f'{e(_label(v))}</label>' for v in items["enum"])
                return (f'<fieldset class="enum-list" id="{e(fid)}" data-for="{e(path)}">'
                        f'<legend>{e(label)}</legend>{hint}{boxes}</fieldset>')
            if ITEM in path:
                raise ValueError(f"{path}: lists inside list items are not supported")
            inner = self.object_fields(f"{path}.{ITEM}", items)
            return (f'<fieldset class="list" id="{e(fid)}" data-list="{e(path)}">'
                    f'<legend>{e(label)}</legend>{hint}<div class="items"></div>'
                    f'<template>{_item(inner)}</template>'
                    f'<button type="button" class="add" data-add="{e(path)}">Add '
                    f'{e(_label(name))} entry</button></fieldset>')
        attrs = f'id="{e(fid)}" name="{e(path)}" data-path="{e(path)}"'
        if "enum" in spec:
            opts = "".join(f'<option value="{e(v)}">{e(_label(v))}</option>'
                           for v in spec["enum"])
            control = (f'<select {attrs} data-kind="enum"><option value="">not recorded'
                       f'</option>{opts}</select>')
        elif kind == "boolean":
            control = (f'<select {attrs} data-kind="bool"><option value="">not recorded</option>'
                       f'<option value="true">yes</option><option value="false">no</option>'
                       f'</select>')
        elif kind in ("number", "integer"):
            bounds = "".join(f' {a}="{e(spec[k])}"' for k, a in (
                ("minimum", "min"), ("maximum", "max")) if k in spec)
            step = "1" if kind == "integer" else "any"
            control = (f'<input type="number" inputmode="decimal" step="{step}"{bounds} {attrs} '
                       f'data-kind="{kind}">')
        elif spec.get("format") == "date":
            control = f'<input type="date" {attrs} data-kind="text">'
        elif spec.get("maxLength", 0) > 500:
            control = f'<textarea rows="3" maxlength="{spec["maxLength"]}" {attrs} ' \
                      f'data-kind="text"></textarea>'
        else:
            maxlength = f' maxlength="{spec["maxLength"]}"' if "maxLength" in spec else ""
            control = f'<input type="text"{maxlength} {attrs} data-kind="text">'
        return (f'<div class="field" data-field="{e(path)}"><label for="{e(fid)}">'
                f'{e(label)}</label>{control}{hint}</div>')

    def object_fields(self, path: str, spec: dict[str, Any]) -> str:
        required = set(spec.get("required", []))
        return "".join(self.field(f"{path}.{name}", name, sub, name in required)
                       for name, sub in spec.get("properties", {}).items())

    def section(self, path: str, name: str, spec: dict[str, Any]) -> str:
        fid = "f-" + path.replace(".", "-")
        return (f'<fieldset class="section" id="{e(fid)}" data-section="{e(path)}">'
                f'<legend>{e(_label(name))}</legend>{self.object_fields(path, spec)}'
                f'</fieldset>')


def _item(inner: str) -> str:
    return (f'<div class="item">{inner}<button type="button" class="remove">Remove this '
            f'entry</button></div>')


@cache
def _asset(name: str) -> str:
    return resources.files("pumpdx.service").joinpath("static", name).read_text("utf-8")


def case_form() -> str:
    """The case form, grouped by step; every top-level field of Case appears once."""
    schema = Case.model_json_schema()
    form = _Form(schema)
    required = set(schema.get("required", []))
    props = schema["properties"]
    placed = [name for _, _, names in STEPS for name in names]
    missing = sorted(set(props) - set(placed))
    if missing:
        raise ValueError(f"case fields without a step on the page: {', '.join(missing)}")
    parts = []
    for sid, title, names in STEPS:
        body = "".join(form.field(name, name, props[name], name in required) for name in names)
        parts.append(f'<section class="step" id="{sid}" aria-labelledby="{sid}-h">'
                     f'<h2 id="{sid}-h">{e(title)}</h2>{body}</section>')
    return "".join(parts)


def consultation_page(kb: KnowledgeBase, insecure_dev: bool) -> str:
    if insecure_dev:
        banner = ('<p class="banner insecure" role="note">Development mode: authentication is '
                  'off. Use on this computer only.</p>')
    else:
        banner = ('<p class="banner" role="note">This service requires a signed bearer token '
                  'for every assessment; this page can assess only when the service runs '
                  'with --insecure-dev (local use).</p>')
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>PumpDx consultation</title><style>{_asset("consult.css")}</style></head>
<body><a class="skip" href="#results">Skip to the assessment</a>
<header><h1>PumpDx consultation</h1>
<p>Intrathecal pump troubleshooting by the stepwise algorithm of the review (knowledge base
{e(kb.version)}). Enter what you know; leave the rest as <em>not recorded</em>: an unentered
finding is unknown, never "no". PumpDx supports clinical judgement; it does not replace it.</p>
{banner}</header>
<main><form id="case-form" novalidate>{case_form()}
<div class="actions"><button type="submit" id="assess">Assess</button></div></form>
<section id="results" aria-labelledby="results-h" tabindex="-1">
<h2 id="results-h">Assessment</h2><div id="status" role="status" aria-live="polite">No
assessment yet.</div><div id="error" role="alert"></div><div id="assessment"></div>
<form id="answers" novalidate hidden><h3 id="questions-h">Open questions: record next</h3>
<div id="questions"></div><button type="submit" id="reassess">Re-assess with these
answers</button></form></section></main>
<script>{_asset("consult.js")}</script></body></html>
"""
