"""The HTTP service, started as `pumpdx serve` on 127.0.0.1 and called over HTTP:
CDS Hooks discovery and patient-view with FHIR input, JWT authentication, bad requests,
/assess, audit reports, feedback."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from pumpdx.engine.assess import Assessor
from pumpdx.kb.facts import Case

from .service_support import (
    HOOK,
    ISSUER,
    FhirStub,
    Server,
    Signer,
    bundle,
    device,
    hook_call,
    medication,
    observation,
    serve,
    volume,
    withdrawal_prefetch,
)


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer()


@pytest.fixture(scope="module")
def server(signer: Signer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("serve")
    jwks = tmp / "jwks.json"
    jwks.write_text(json.dumps(signer.jwks()))
    with serve(tmp, "--jwks", str(jwks), "--issuer", ISSUER, "--rate-limit", "0",
               "--max-body-bytes", "200000") as s:
        yield s


def call(server: Server, signer: Signer, body: Any, path: str = HOOK,
         **claims: Any) -> httpx.Response:
    token = signer.token(server.url + path, **claims)
    return httpx.post(server.url + path, json=body, timeout=60,
                      headers={"Authorization": f"Bearer {token}"})


def cards_of(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    cards: list[dict[str, Any]] = response.json()["cards"]
    return cards


def assert_outcome(response: httpx.Response, status: int, *words: str) -> str:
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text and 'File "' not in response.text
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    text: str = body["issue"][0]["diagnostics"]
    for word in words:
        assert word in text, text
    return text


def test_discovery_lists_the_patient_view_service(server: Server) -> None:
    services = httpx.get(server.url + "/cds-services", timeout=30).json()["services"]
    assert [(s["hook"], s["id"]) for s in services] == [("patient-view", "pumpdx-troubleshoot")]
    prefetch = services[0]["prefetch"]
    assert set(prefetch) == {"device", "medicationRequests", "medicationStatements",
                             "observations", "conditions"}
    assert all("{{context.patientId}}" in q for q in prefetch.values())
    assert "code=urn:pumpdx:codes|" in prefetch["observations"]


def test_withdrawal_with_empty_reservoir_gives_systemic_opioid_and_refill(
        server: Server, signer: Signer) -> None:
    cards = cards_of(call(server, signer, hook_call(withdrawal_prefetch(reservoir_ml=0))))
    critical = [c for c in cards if c["indicator"] == "critical"]
    opioid = [c for c in critical if "opioid systemically" in c["summary"]]
    assert len(opioid) == 1, [c["summary"] for c in critical]
    detail = opioid[0]["detail"]
    # FDA criterion 4: the rule, its inputs and the citation are in the card
    assert "ow_withdrawal_opioid_systemic" in detail and "morphine" in detail
    assert "**Source text:**" in detail  # the verbatim words of the review it rests on
    assert "§7.9" in opioid[0]["source"]["label"]
    # the knowledge base concludes the refill as a recommendation: in the next-step card
    info = [c for c in cards if c["indicator"] == "info"]
    assert any("Refill the reservoir to restore therapy" in c["detail"] for c in info)
    assert "ow_withdrawal_refill" in info[0]["detail"]
    assert all(len(c["summary"]) < 140 for c in cards)
    assert [c["indicator"] for c in cards] == sorted(
        (c["indicator"] for c in cards), key=["critical", "warning", "info"].index)
    questions = [c for c in cards if c["summary"].startswith("Record next")]
    assert len(questions) == 1 and "reservoir.expected_volume_ml" in questions[0]["detail"]
    link = opioid[0]["links"][0]
    assert link["type"] == "absolute" and link["url"].startswith(server.url + "/reports/dx-")
    # the card's link opens the audit report in a browser without a token
    report = httpx.get(link["url"], timeout=60)
    assert report.status_code == 200 and "ow_withdrawal_opioid_systemic" in report.text
    assert httpx.get(link["url"].split("?")[0], timeout=30).status_code == 401


def test_withdrawal_with_a_full_reservoir_gives_no_refill(server: Server,
                                                          signer: Signer) -> None:
    cards = cards_of(call(server, signer, hook_call(withdrawal_prefetch(reservoir_ml=15))))
    assert any("opioid systemically" in c["summary"] for c in cards
               if c["indicator"] == "critical")
    assert not any("Refill the reservoir" in c["detail"] for c in cards)


def test_missing_prefetch_is_fetched_from_the_fhir_server_with_its_token(
        server: Server, signer: Signer) -> None:
    full = withdrawal_prefetch(reservoir_ml=0)
    stub_data = {"Observation": full["observations"], "Condition": full["conditions"]}
    partial = {k: v for k, v in full.items() if k not in ("observations", "conditions")}
    partial["conditions"] = None
    with FhirStub(stub_data) as fhir:
        auth = {"access_token": "fhir-token-123", "token_type": "Bearer", "expires_in": 300,
                "scope": "patient/*.read", "subject": "pumpdx"}
        cards = cards_of(call(server, signer, hook_call(partial, fhirServer=fhir.url,
                                                        fhirAuthorization=auth)))
    paths = sorted(p for p, _ in fhir.requests)
    assert [p.split("?")[0] for p in paths] == ["/fhir/Condition", "/fhir/Observation"]
    assert all("patient=p1" in p for p in paths)
    assert {a for _, a in fhir.requests} == {"Bearer fhir-token-123"}
    expected = cards_of(call(server, signer, hook_call(full)))
    # the same cards; only the account of where each resource came from differs
    def clinical(cs: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
        return [(c["uuid"], c["summary"], c["detail"].split("**Used from the record")[0])
                for c in cs]

    assert clinical(cards) == clinical(expected)
    assert "fhirServer observations.entry[2]" in cards[-1]["detail"]


def test_missing_prefetch_without_a_fhir_server_is_not_guessed(server: Server,
                                                                signer: Signer) -> None:
    partial = withdrawal_prefetch()
    del partial["observations"]
    assert_outcome(call(server, signer, hook_call(partial)), 400, "prefetch.observations",
                   "no fhirServer")


def test_a_medication_without_an_intrathecal_route_is_not_an_intrathecal_drug(
        server: Server, signer: Signer) -> None:
    prefetch = withdrawal_prefetch()
    prefetch["medicationRequests"] = bundle(medication("morphine", route=None))
    cards = cards_of(call(server, signer, hook_call(prefetch)))
    assert not any("opioid systemically" in c["summary"] for c in cards)
    assert any("morphine without an intrathecal route" in c["detail"] for c in cards)


def test_unmappable_record_says_what_to_record(server: Server, signer: Signer) -> None:
    prefetch = withdrawal_prefetch()
    prefetch["observations"] = bundle(observation("reservoir-measured-volume-ml",
                                                  {"valueQuantity": {"value": 2, "unit": "L"}}))
    cards = cards_of(call(server, signer, hook_call(prefetch)))
    assert len(cards) == 1 and cards[0]["summary"].startswith("PumpDx cannot assess yet")
    assert "must be in mL" in cards[0]["detail"]
    prefetch = withdrawal_prefetch()
    prefetch["conditions"] = bundle()
    cards = cards_of(call(server, signer, hook_call(prefetch)))
    assert "no presenting problem" in cards[0]["summary"]


def test_conflicting_values_are_not_resolved_by_guessing(server: Server,
                                                         signer: Signer) -> None:
    prefetch = withdrawal_prefetch()
    prefetch["observations"]["entry"].append({"resource": observation(
        "reservoir-measured-volume-ml", volume(12), rid="second-volume")})
    cards = cards_of(call(server, signer, hook_call(prefetch)))
    assert len(cards) == 1 and "two different values for reservoir.measured_volume_ml" \
        in cards[0]["detail"]


def test_resources_of_another_patient_are_refused(server: Server, signer: Signer) -> None:
    prefetch = withdrawal_prefetch()
    prefetch["device"] = bundle(device("pump-synchromed-ii", patient="someone-else"))
    assert_outcome(call(server, signer, hook_call(prefetch)), 400, "Patient/someone-else")


@pytest.mark.parametrize("claims, reason", [
    ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 3700}, "expired"),
    ({"aud": "http://127.0.0.1:1/cds-services/pumpdx-troubleshoot"}, "aud"),
    ({"iss": "urn:someone-else"}, "issuer"),
    ({"jti": None}, "jti"),
    ({"iat": int(time.time()) + 3600, "exp": int(time.time()) + 3800}, "iat"),
])
def test_bad_tokens_get_401(server: Server, signer: Signer, claims: dict[str, Any],
                            reason: str) -> None:
    response = call(server, signer, hook_call(withdrawal_prefetch()), **claims)
    assert_outcome(response, 401, reason)
    assert response.headers["www-authenticate"] == "Bearer"


def test_unsigned_forged_and_missing_tokens_get_401(server: Server, signer: Signer) -> None:
    url = server.url + HOOK
    body = hook_call(withdrawal_prefetch())
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": url, "iat": now, "exp": now + 200, "jti": "x-unsigned"}
    unsigned = jwt.encode(claims, None, algorithm="none")
    forged = Signer(kid=signer.kid).token(url)
    secret = "a-shared-secret-that-is-long-enough-for-hs256"
    hmac_token = jwt.encode({**claims, "jti": "x-hmac"}, secret, algorithm="HS256",
                            headers={"kid": signer.kid})
    for header, reason in ((f"Bearer {unsigned}", "alg"), (f"Bearer {forged}", "signature"),
                           (f"Bearer {hmac_token}", "alg"), (None, "missing"),
                           ("Basic abc", "Bearer"), ("Bearer not.a.jwt", "not a JWT")):
        headers = {"Authorization": header} if header else {}
        assert_outcome(httpx.post(url, json=body, headers=headers, timeout=30), 401, reason)


def test_a_replayed_token_gets_401(server: Server, signer: Signer) -> None:
    url = server.url + HOOK
    token = signer.token(url)
    body = hook_call(withdrawal_prefetch())
    first = httpx.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert first.status_code == 200
    again = httpx.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert_outcome(again, 401, "replay")


@pytest.mark.parametrize("body, words", [
    (b"{not json", ("malformed JSON",)),
    (b"[" * 5000 + b"]" * 5000, ("nests deeper",)),
    (b'{"hook": "patient-view", "n": 1e999999}', ("not finite",)),
    (b'{"hook": "patient-view", "n": ' + b"9" * 5000 + b"}", ("too many digits",)),
    (b"\xff\xfe", ("UTF-8",)),
    (b"[]", ("JSON object",)),
    (b"", ("no body",)),
    (json.dumps({"hook": "order-sign", "hookInstance": "x"}).encode(), ("hook",)),
    (json.dumps({"hook": "patient-view", "hookInstance": "not-a-uuid",
                 "context": {"userId": "u", "patientId": "p1"}}).encode(), ("hookInstance",)),
    (json.dumps({"hook": "patient-view", "hookInstance": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
                 "context": {"userId": 5, "patientId": ["p1"]}}).encode(), ("context.",)),
    (json.dumps(hook_call({"observations": bundle({"resourceType": "Observation",
                                                   "status": "final", "code": 12})})).encode(),
     ("prefetch.observations", "FHIR")),
    (json.dumps(hook_call({"device": {"resourceType": "Patient", "id": "p1"}})).encode(),
     ("prefetch.device", "Patient")),
])
def test_malformed_bodies_get_400_with_an_operation_outcome(
        server: Server, signer: Signer, body: bytes, words: tuple[str, ...]) -> None:
    url = server.url + HOOK
    response = httpx.post(url, content=body, timeout=30, headers={
        "Authorization": f"Bearer {signer.token(url)}", "Content-Type": "application/json"})
    assert_outcome(response, 400, *words)
    assert response.headers["content-type"].startswith("application/fhir+json")


def test_an_oversized_body_gets_413(server: Server, signer: Signer) -> None:
    url = server.url + HOOK
    response = httpx.post(url, content=b" " * 300_000, timeout=30,
                          headers={"Authorization": f"Bearer {signer.token(url)}"})
    assert_outcome(response, 413, "over 200000 bytes")


def test_feedback_is_accepted_and_logged(server: Server, signer: Signer) -> None:
    card = cards_of(call(server, signer, hook_call(withdrawal_prefetch())))[0]
    feedback = {"feedback": [{"card": card["uuid"], "outcome": "overridden",
                              "overrideReason": {"userComment": "already given"},
                              "outcomeTimestamp": "2026-12-02T01:00:00Z"}]}
    response = call(server, signer, feedback, path=HOOK + "/feedback")
    assert response.status_code == 200 and response.json() == {}
    deadline = time.monotonic() + 10
    while card["uuid"] not in server.log_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    line = next(x for x in server.log_text().splitlines() if card["uuid"] in x)
    assert "feedback" in line and "overridden" in line and "already given" in line
    assert_outcome(call(server, signer, {"feedback": []}, path=HOOK + "/feedback"), 400,
                   "feedback")


def test_assess_returns_the_same_assessment_as_the_library(
        server: Server, signer: Signer, assessor: Assessor) -> None:
    case = {"pump": {"model": "prometra_ii"}, "drugs": [{"agent": "baclofen"}],
            "presentation": {"problems": ["withdrawal"], "signs": ["rebound_spasticity"]}}
    response = call(server, signer, case, path="/assess")
    assert response.status_code == 200, response.text
    local = assessor.assess(Case.model_validate(case))
    assert response.json() == json.loads(local.model_dump_json())
    assert_outcome(call(server, signer, {"presentation": {"problems": ["withdrawal"]},
                                         "pump": {"volume_cc": 3}}, path="/assess"),
                   400, "pump.volume_cc", "unknown field")
    assert_outcome(httpx.post(server.url + "/assess", json=case, timeout=30), 401)


def test_reports_need_a_token_or_a_signed_link(server: Server, signer: Signer) -> None:
    case = {"pump": {"model": "synchromed_ii"}, "presentation": {"problems": ["alarm"]}}
    decision = call(server, signer, case, path="/assess").json()["decision_id"]
    path = f"/reports/{decision}"
    token = signer.token(server.url + path)
    report = httpx.get(server.url + path, headers={"Authorization": f"Bearer {token}"},
                       timeout=60)
    assert report.status_code == 200 and decision in report.text
    forged = httpx.get(server.url + path + "?exp=9999999999&sig=00", timeout=30)
    assert_outcome(forged, 401)
    missing = "/reports/dx-0000000000000000"
    token = signer.token(server.url + missing)
    assert_outcome(httpx.get(server.url + missing, timeout=30,
                             headers={"Authorization": f"Bearer {token}"}), 404, "no decision")


def test_serve_refuses_to_start_without_keys_unless_insecure(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "pumpdx", "serve", "--port", "1"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--jwks" in done.stderr and "--insecure-dev" in done.stderr
    assert "Traceback" not in done.stderr
