"""Bad requests as FHIR OperationOutcome resources, and a JSON reader for hostile bodies.

Every error the service returns is an OperationOutcome whose issue names the problem
and the place in the request; no stack trace ever leaves the process."""

from __future__ import annotations

import json
import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

MAX_DEPTH = 32
MAX_ITEMS = 100_000

IssueCode = Literal["invalid", "structure", "required", "value", "too-long", "too-costly",
                    "security",
                    "login", "not-found", "throttled", "exception", "not-supported",
                    "transient", "processing"]


class OutcomeIssue(BaseModel):
    model_config = ConfigDict(frozen=True)

    severity: Literal["fatal", "error", "warning", "information"] = "error"
    code: IssueCode
    diagnostics: str
    expression: list[str] | None = None


class OperationOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    resourceType: Literal["OperationOutcome"] = "OperationOutcome"
    issue: list[OutcomeIssue]


class ServiceError(Exception):
    """An error answered with `status` and an OperationOutcome."""

    def __init__(self, status: int, code: IssueCode, message: str,
                 where: list[str] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.outcome = OperationOutcome(issue=[OutcomeIssue(
            code=code, diagnostics=message[:2000], expression=where)])
        self.headers = headers or {}


def bad_request(message: str, where: str | None = None, code: IssueCode = "invalid"
                ) -> ServiceError:
    return ServiceError(400, code, message, [where] if where else None)


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _check_shape(value: Any) -> None:
    """Iteratively: nesting depth, number of items, finite numbers."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    items = 0
    while stack:
        current, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise bad_request(f"the JSON nests deeper than {MAX_DEPTH} levels", code="structure")
        if isinstance(current, dict):
            items += len(current)
            stack.extend((v, depth + 1) for v in current.values())
        elif isinstance(current, list):
            items += len(current)
            stack.extend((v, depth + 1) for v in current)
        elif isinstance(current, float) and not math.isfinite(current):
            raise bad_request("a number is too large (not finite)", code="value")
        if items > MAX_ITEMS:
            raise bad_request(f"the JSON holds more than {MAX_ITEMS} items", code="too-long")


def parse_json_body(body: bytes) -> Any:
    """The JSON body, or ServiceError(400) naming what is wrong with it."""
    if not body:
        raise bad_request("the request has no body; a JSON object is expected",
                          code="required")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("the body is not UTF-8 text") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise bad_request(f"the JSON nests deeper than {MAX_DEPTH} levels",
                          code="structure") from None
    except json.JSONDecodeError as exc:
        raise bad_request(f"malformed JSON at line {exc.lineno} column {exc.colno}: "
                          f"{exc.msg}", code="structure") from None
    except ValueError as exc:  # NaN/Infinity, integers over Python's digit limit
        message = ("a number has too many digits" if "digits" in str(exc)
                   else f"malformed JSON: {str(exc)[:200]}")
        raise bad_request(message, code="value") from None
    _check_shape(data)
    if not isinstance(data, dict):
        raise bad_request("the body must be a JSON object", code="structure")
    return data


def validation_error(exc: ValidationError, prefix: str = "") -> ServiceError:
    """The first pydantic error as a 400 naming its place (and how many more there are)."""
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    where = prefix + ".".join(str(p) for p in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = f"unknown field '{first['loc'][-1]}'"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    issue = OperationOutcome(issue=[
        OutcomeIssue(code="invalid", diagnostics=f"{where or 'body'}: {message}{more}"[:2000],
                     expression=[where] if where else None)])
    err = ServiceError(400, "invalid", issue.issue[0].diagnostics)
    err.outcome = issue
    return err
