"""Helpers for the service tests: a real `pumpdx serve` on 127.0.0.1 in a subprocess,
signed CDS Hooks tokens, FHIR resources for a case, and a tiny local FHIR server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec

ISSUER = "urn:pumpdx-test:ehr"
SYSTEM = "urn:pumpdx:codes"
HOOK = "/cds-services/pumpdx-troubleshoot"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Signer:
    """An EHR's signing key and its JWK Set."""

    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP384R1()))
    kid: str = "ehr-key-1"

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "alg": "ES384", "use": "sig"}]}

    def token(self, endpoint: str, **changes: Any) -> str:
        """A token for `endpoint` (the aud), with claims changed or (None) removed."""
        now = int(time.time())
        claims: dict[str, Any] = {"iss": ISSUER, "sub": "ehr-client", "aud": endpoint,
                                  "iat": now, "exp": now + 240, "jti": str(uuid.uuid4())}
        claims.update(changes)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.key, algorithm="ES384", headers={"kid": self.kid})


@dataclass
class Server:
    url: str
    log: Path
    process: subprocess.Popen[bytes]

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def serve(tmp: Path, *args: str) -> Iterator[Server]:
    """`pumpdx serve ARGS` on a free port of 127.0.0.1; stopped on exit."""
    port = free_port()
    log = tmp / f"serve-{port}.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "pumpdx", "serve", "--host", "127.0.0.1",
                                 "--port", str(port), *args],
                                stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    server = Server(url, log, proc)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"pumpdx serve exited {proc.returncode}: "
                                   f"{server.log_text()[-2000:]}")
            try:
                if httpx.get(url + "/cds-services", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("pumpdx serve did not start in 120 s")
            time.sleep(0.3)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def coding(code: str, system: str = SYSTEM) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset",
            "entry": [{"resource": r} for r in resources]}


def device(code: str, patient: str = "p1") -> dict[str, Any]:
    return {"resourceType": "Device", "id": "pump", "status": "active", "type": coding(code),
            "patient": {"reference": f"Patient/{patient}"}}


def medication(agent: str, route: str | None = "intrathecal", patient: str = "p1",
               rid: str = "med1") -> dict[str, Any]:
    dosage = [{"route": coding(route)}] if route else []
    return {"resourceType": "MedicationRequest", "id": rid, "status": "active",
            "intent": "order", "medicationCodeableConcept": coding(agent),
            "subject": {"reference": f"Patient/{patient}"}, "dosageInstruction": dosage}


def condition(code: str, patient: str = "p1") -> dict[str, Any]:
    return {"resourceType": "Condition", "id": f"cond-{code}", "code": coding(code),
            "clinicalStatus": coding("active",
                                     "http://terminology.hl7.org/CodeSystem/condition-clinical"),
            "subject": {"reference": f"Patient/{patient}"}}


def observation(code: str, value: dict[str, Any] | None = None, patient: str = "p1",
                rid: str | None = None) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "Observation", "id": rid or f"obs-{code}",
                           "status": "final", "code": coding(code),
                           "subject": {"reference": f"Patient/{patient}"}}
    res.update(value or {})
    return res


def volume(ml: float) -> dict[str, Any]:
    return {"valueQuantity": {"value": ml, "unit": "mL", "system": "http://unitsofmeasure.org",
                              "code": "mL"}}


def withdrawal_prefetch(reservoir_ml: float = 0) -> dict[str, Any]:
    """Opioid withdrawal in a SynchroMed II pump with intrathecal morphine, diaphoresis and
    agitation, and the reservoir volume measured at `reservoir_ml` mL."""
    return {
        "device": bundle(device("pump-synchromed-ii")),
        "medicationRequests": bundle(medication("morphine")),
        "medicationStatements": bundle(),
        "observations": bundle(observation("sign-diaphoresis"), observation("sign-agitation"),
                               observation("reservoir-measured-volume-ml", volume(reservoir_ml))),
        "conditions": bundle(condition("problem-withdrawal")),
    }


def hook_call(prefetch: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    call: dict[str, Any] = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
                            "context": {"userId": "Practitioner/doc", "patientId": "p1"}}
    if prefetch is not None:
        call["prefetch"] = prefetch
    call.update(extra)
    return call


class FhirStub:
    """A tiny FHIR server on 127.0.0.1: answers searches with a Bundle per resource type
    and records each request's path and Authorization header."""

    def __init__(self, bundles: dict[str, dict[str, Any]]) -> None:
        self.bundles = bundles
        self.requests: list[tuple[str, str | None]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stub.requests.append((self.path, self.headers.get("Authorization")))
                kind = self.path.lstrip("/").split("?")[0].split("/")[-1]
                body = json.dumps(stub.bundles.get(kind, bundle())).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/fhir"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FhirStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
