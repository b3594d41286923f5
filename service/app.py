"""The PumpDx HTTP service: CDS Hooks 2.0 (discovery, patient-view, feedback), POST /assess,
GET /reports/{decision_id} and the consultation page at /.

Every assessment the service makes goes through `Service._assess_and_record`."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from pumpdx.decisionlog import DecisionLog, LogError, check_decision_id
from pumpdx.engine.assess import default_assessor
from pumpdx.engine.assessment import Assessment
from pumpdx.engine.runtime import RunawayError
from pumpdx.kb.facts import Case
from pumpdx.kb.fhir_mapping import FhirMapping, load_fhir_mapping
from pumpdx.viz.audit import audit_files

from .auth import (
    AuthError,
    JwtVerifier,
    LinkSigner,
    MemoryReplayCache,
    ReplayCache,
    ReplayStoreFull,
    SqliteReplayCache,
)
from .cards import build_cards, summary
from .cds_models import (
    SERVICE_ID,
    Card,
    CdsResponse,
    Discovery,
    Feedback,
    HookRequest,
    ServiceDescriptor,
    Source,
)
from .config import ServiceConfig
from .errors import (
    IssueCode,
    OperationOutcome,
    OutcomeIssue,
    ServiceError,
    bad_request,
    parse_json_body,
    validation_error,
)
from .fhir_case import FhirCase, FhirInputError, FhirResources, build_case, parse_resources
from .fhir_fetch import fetch_bundle, query_for
from .page import consultation_page
from .ratelimit import RateLimiter
from .store import RecentAssessments

log = logging.getLogger("pumpdx.service")

FHIR_JSON = "application/fhir+json"
HOOK_PATH = f"/cds-services/{SERVICE_ID}"


def prefetch_templates(mapping: FhirMapping) -> dict[str, str]:
    """The prefetch queries of the service (observations and conditions limited to the
    code systems of the mapping table)."""
    patient = "{{context.patientId}}"

    def codes(table: str) -> str:
        systems = mapping.systems(table)
        return "&code=" + ",".join(f"{s}|" for s in systems) if systems else ""

    return {
        "device": f"Device?patient={patient}",
        "medicationRequests": f"MedicationRequest?patient={patient}&status=active",
        "medicationStatements": f"MedicationStatement?patient={patient}&status=active",
        "observations": f"Observation?patient={patient}" + codes("observations"),
        "conditions": f"Condition?patient={patient}" + codes("conditions"),
    }


M = TypeVar("M", bound=BaseModel)


class Service:
    """The state of one worker: the engine, the mapping, the stores, the verifier."""

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.assessor = default_assessor(config.kb_dir)
        self.mapping = load_fhir_mapping(self.assessor.kb.root)
        self.templates = prefetch_templates(self.mapping)
        self.recent = RecentAssessments(config.report_store_size)
        self.decision_log = DecisionLog.open(config.log_db)
        self.limiter = RateLimiter(config.rate_limit_per_minute)
        self.links = LinkSigner(bytes.fromhex(config.link_secret))
        self.verifier: JwtVerifier | None = None
        if not config.insecure_dev:
            replay: ReplayCache = (SqliteReplayCache(config.replay_db) if config.replay_db
                                   else MemoryReplayCache())
            assert config.jwks is not None  # checked by ServiceConfig
            self.verifier = JwtVerifier(config.jwks, config.issuers, replay,
                                        config.allowed_jku)

    def _assess_and_record(self, case: Case) -> Assessment:
        """The one place where the service makes an assessment (and records it)."""
        try:
            assessment = self.assessor.assess(case)
        except RunawayError as exc:
            # a case over its CPU or memory budget (or a rule loop): refused, not a 500
            raise ServiceError(400, "too-costly", str(exc)) from None
        try:
            self.decision_log.record(assessment, source="service")
        except LogError as exc:
            log.error("decision log: %s", exc)
            raise ServiceError(503, "transient", "the decision log cannot be written; no "
                               "assessment is given without its log entry") from None
        self.recent.put(assessment)
        return assessment

    def find_decision(self, decision_id: str) -> Assessment | None:
        """A decision of this worker's recent store, else of the decision log."""
        found = self.recent.get(decision_id)
        if found is not None:
            return found
        try:
            check_decision_id(decision_id)
        except LogError:
            return None
        try:
            entry = self.decision_log.get(decision_id)
            return entry.to_assessment() if entry is not None else None
        except LogError as exc:
            log.error("decision log: %s", exc)
            raise ServiceError(503, "transient", "the decision log cannot be read") from None

    def report_url(self, decision_id: str) -> str:
        return (f"{self.config.base_url()}/reports/{decision_id}?"
                f"{self.links.query(decision_id)}")

    # -- request guards --------------------------------------------------------------
    def authenticate(self, request: Request) -> None:
        if self.verifier is None:
            return
        audience = self.config.base_url() + request.url.path
        try:
            self.verifier.verify(request.headers.get("authorization"), audience)
        except AuthError as exc:
            raise ServiceError(401, "login", f"authentication failed: {exc}",
                               headers={"WWW-Authenticate": "Bearer"}) from None
        except ReplayStoreFull:
            raise ServiceError(503, "transient", "too many recent tokens; retry shortly",
                               headers={"Retry-After": "60"}) from None

    def throttle(self, request: Request) -> None:
        client = request.client.host if request.client else "unknown"
        if not self.limiter.allow(client):
            raise ServiceError(429, "throttled",
                               f"rate limit: {self.config.rate_limit_per_minute} requests per "
                               f"minute", headers={"Retry-After": "10"})

    async def request_body(self, request: Request, model: type[M]) -> M:
        """A call's checks in order: rate limit, authentication, then its body read
        within the size limit and validated as `model` (400 with an OperationOutcome)."""
        self.throttle(request)
        self.authenticate(request)
        data = await self.body(request)
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise validation_error(exc) from None

    async def body(self, request: Request) -> Any:
        limit = self.config.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            raise ServiceError(413, "too-long", f"the body is over {limit} bytes")
        chunks = bytearray()
        async for chunk in request.stream():
            chunks.extend(chunk)
            if len(chunks) > limit:
                raise ServiceError(413, "too-long", f"the body is over {limit} bytes")
        return parse_json_body(bytes(chunks))

    # -- CDS Hooks -------------------------------------------------------------------
    def discovery(self) -> Discovery:
        return Discovery(services=[ServiceDescriptor(
            hook="patient-view", id=SERVICE_ID,
            title="PumpDx: intrathecal pump troubleshooting",
            description=("Troubleshoots an implanted intrathecal drug pump (overdose, "
                         "withdrawal, loss of therapy, alarms, MRI, reservoir volumes) by the "
                         "stepwise algorithm of Wojnowski et al.; every card cites the rule, "
                         "its inputs and the review section."),
            prefetch=self.templates,
            usageRequirements=("Codes are read through the site's mapping table "
                               "(kb/fhir_mapping.yaml); medications need an intrathecal "
                               "route coding."))])

    async def resources(self, call: HookRequest) -> FhirResources:
        """The prefetch, with what is missing fetched from fhirServer (never guessed)."""
        prefetch = call.prefetch or {}
        patient = call.context.patientId
        out = FhirResources()
        missing = [k for k in self.templates if prefetch.get(k) is None]
        for key in self.templates:
            if prefetch.get(key) is not None:
                out.items += self._parse(f"prefetch.{key}", prefetch[key], patient).items
        if not missing:
            return out
        if call.fhirServer is None:
            raise bad_request(f"prefetch.{missing[0]} is missing and no fhirServer was given "
                              f"to fetch it", f"prefetch.{missing[0]}", code="required")
        base = str(call.fhirServer).rstrip("/")
        allowed = self.config.fhir_servers
        if allowed and base not in [s.rstrip("/") for s in allowed]:
            raise ServiceError(403, "security", f"fhirServer {base[:200]} is not allow-listed",
                               ["fhirServer"])
        token = call.fhirAuthorization.access_token if call.fhirAuthorization else None
        async with httpx.AsyncClient(timeout=self.config.fhir_timeout_s,
                                     follow_redirects=False) as client:
            for key in missing:
                bundle = await fetch_bundle(client, base, query_for(self.templates[key],
                                                                    patient), token)
                out.items += self._parse(f"fhirServer {key}", bundle, patient).items
        return out

    @staticmethod
    def _parse(place: str, data: Any, patient: str) -> FhirResources:
        try:
            return parse_resources(place, data, patient)
        except FhirInputError as exc:
            raise bad_request(str(exc), place.split(" ")[-1]) from None

    def cards_for(self, mapped: FhirCase) -> list[Card]:
        account = ("\n\n**Used from the record:**\n" + "\n".join(f"- {u}" for u in mapped.used)
                   if mapped.used else "")
        ignored = ("\n\n**Not used:**\n" + "\n".join(f"- {u}" for u in mapped.ignored)
                   if mapped.ignored else "")
        if mapped.case is None:
            text = "; ".join(mapped.problems)
            return [Card(uuid=_uuid_of(text), indicator="info",
                         summary=summary(text, "PumpDx cannot assess yet: "),
                         detail="PumpDx needs more from the record:\n\n"
                                + "\n".join(f"- {p}" for p in mapped.problems)
                                + account + ignored,
                         source=Source(label="PumpDx FHIR mapping (kb/fhir_mapping.yaml)"))]
        assessment = self._assess_and_record(mapped.case)
        cards = build_cards(assessment, self.report_url(assessment.decision_id),
                            self.assessor.kb)
        if cards and cards[-1].indicator == "info" and (account or ignored):
            last = cards[-1]
            cards[-1] = last.model_copy(update={"detail": last.detail + account + ignored})
        return cards


def _uuid_of(text: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "pumpdx:" + text))


def _outcome_response(err: ServiceError) -> JSONResponse:
    return JSONResponse(err.outcome.model_dump(exclude_none=True), status_code=err.status,
                        headers=err.headers, media_type=FHIR_JSON)


def create_app(config: ServiceConfig) -> FastAPI:
    """The ASGI application for one worker."""
    service = Service(config)
    if config.insecure_dev:
        log.warning("INSECURE DEV MODE: authentication is OFF; for local use only")
    app = FastAPI(title="PumpDx", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.service = service
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"],
                       allow_headers=["Authorization", "Content-Type"])

    @app.exception_handler(ServiceError)
    async def _service_error(_: Request, exc: ServiceError) -> JSONResponse:
        return _outcome_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code: IssueCode = "not-found" if exc.status_code == 404 else "not-supported"
        return _outcome_response(ServiceError(exc.status_code, code, str(exc.detail)))

    @app.exception_handler(RequestValidationError)
    async def _request_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _outcome_response(bad_request("invalid request parameters"))

    @app.exception_handler(Exception)
    async def _internal(_: Request, exc: Exception) -> JSONResponse:
        log.error("internal error: %s: %s", type(exc).__name__, exc)
        return _outcome_response(ServiceError(500, "exception", "internal error"))

    @app.get("/", response_class=HTMLResponse)
    async def page() -> HTMLResponse:
        return HTMLResponse(consultation_page(service.assessor.kb, config.insecure_dev))

    @app.get("/cds-services")
    async def discovery() -> JSONResponse:
        return JSONResponse(service.discovery().model_dump(exclude_none=True))

    @app.post(HOOK_PATH)
    async def hook(request: Request) -> JSONResponse:
        call = await service.request_body(request, HookRequest)
        resources = await service.resources(call)
        mapped = build_case(resources, service.mapping)
        cards = service.cards_for(mapped)
        return JSONResponse(CdsResponse(cards=cards).model_dump(exclude_none=True))

    @app.post(HOOK_PATH + "/feedback")
    async def feedback(request: Request) -> JSONResponse:
        received = await service.request_body(request, Feedback)
        for item in received.feedback:
            log.info("feedback %s", json.dumps(item.model_dump(mode="json", exclude_none=True),
                                               sort_keys=True))
        return JSONResponse({})

    @app.post("/assess")
    async def assess(request: Request) -> Response:
        case = await service.request_body(request, Case)
        assessment = service._assess_and_record(case)
        return Response(assessment.model_dump_json(), media_type="application/json")

    @app.get("/reports/{decision_id}", response_class=HTMLResponse)
    async def report(decision_id: str, request: Request) -> HTMLResponse:
        service.throttle(request)
        if not service.links.valid(decision_id, request.query_params.get("exp"),
                                   request.query_params.get("sig")):
            service.authenticate(request)
        found = service.find_decision(decision_id)
        if found is None:
            raise ServiceError(404, "not-found",
                               f"no decision {decision_id[:40]} in this service or its "
                               "decision log")
        # A logged decision of another knowledge base is shown without this one's rules.
        kb = service.assessor.kb if found.kb_version == service.assessor.kb.version else None
        files = await run_in_threadpool(audit_files, found, kb)
        return HTMLResponse(str(files.files["report.html"]))

    return app


def app_from_env() -> FastAPI:
    """The factory uvicorn calls in each worker (`pumpdx serve`)."""
    return create_app(ServiceConfig.from_env())


__all__ = ["OperationOutcome", "OutcomeIssue", "Service", "app_from_env", "create_app"]
