"""The service logs every assessment it makes: a CDS Hooks call through the real HTTP
service (`pumpdx serve --db URL`, on SQLite and on PostgreSQL) is in the decision log,
replays unchanged on the same knowledge base and is listed after a rule change, and its
audit report is served from the log once the service's recent store has dropped it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from pumpdx.engine.inputs import load_case

from .conftest import CASES_DIR
from .service_support import HOOK, hook_call, serve, withdrawal_prefetch
from .test_decisionlog import changed_kb, log_url, pumpdx  # noqa: F401 (fixtures)

REPORT_LINK = re.compile(r"/reports/(dx-[0-9a-f]{16})")


def test_a_cds_hooks_call_is_logged_and_replayable(
        log_url: str, changed_kb: Path, tmp_path: Path,  # noqa: F811
        capsys: pytest.CaptureFixture[str]) -> None:
    other = load_case(str(CASES_DIR / "maino_fentanyl_overinfusion.yaml"))
    with serve(tmp_path, "--insecure-dev", "--db", log_url, "--report-store", "1") as server:
        response = httpx.post(server.url + HOOK, json=hook_call(withdrawal_prefetch(0)),
                              timeout=60)
        assert response.status_code == 200, response.text
        cards = response.json()["cards"]
        links = {m for c in cards for link in c.get("links", [])
                 for m in REPORT_LINK.findall(link["url"])}
        assert len(links) == 1
        decision_id = links.pop()
        # Another assessment pushes the first out of the recent store (size 1) ...
        assert httpx.post(server.url + "/assess", json=other.model_dump(mode="json"),
                          timeout=60).status_code == 200
        # ... and its report now comes from the log.
        report = httpx.get(f"{server.url}/reports/{decision_id}", timeout=60)
        assert report.status_code == 200, report.text
        assert decision_id in report.text
        missing = httpx.get(f"{server.url}/reports/dx-0000000000000000", timeout=60)
        assert missing.status_code == 404

    code, out, _ = pumpdx(capsys, "log", "show", decision_id, "--db", log_url, "--json")
    record = json.loads(out)
    assert code == 0 and record["source"] == "service"
    assert "withdrawal" in record["case"]["presentation"]["problems"]
    assert record["case"]["reservoir"]["measured_volume_ml"] == 0
    code, out, _ = pumpdx(capsys, "log", "list", "--db", log_url, "--limit", "0", "--json")
    assert len(out.splitlines()) == 2  # the CDS Hooks call and POST /assess

    code, out, _ = pumpdx(capsys, "log", "replay", "--db", log_url)
    assert code == 0 and "2 replayed, 0 with different results" in out
    code, out, _ = pumpdx(capsys, "log", "replay", "--db", log_url, "--kb", str(changed_kb))
    assert code == 1
    assert f"  {decision_id} (case " in out
    assert "- device_emergency_possible (warning) <- triage_device_emergency" in out
