"""`pumpdx serve --insecure-dev` with small limits: it says loudly that authentication is
off, and the rate and body-size limits answer 429 and 413 with an OperationOutcome."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from .service_support import HOOK, Server, hook_call, serve, withdrawal_prefetch


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("limits"), "--insecure-dev", "--rate-limit", "5",
               "--max-body-bytes", "5000") as s:
        yield s


def test_insecure_mode_says_so_loudly(server: Server) -> None:
    assert "INSECURE DEV MODE: authentication is OFF" in server.log_text()
    page = httpx.get(server.url + "/", timeout=30).text
    assert "Development mode: authentication is off" in page


def test_body_and_rate_limits(server: Server) -> None:
    big = hook_call(withdrawal_prefetch())  # about 3 kB of JSON
    big["padding"] = "x" * 5000
    too_big = httpx.post(server.url + HOOK, json=big, timeout=30)
    assert too_big.status_code == 413
    assert "over 5000 bytes" in too_big.json()["issue"][0]["diagnostics"]
    statuses = [httpx.post(server.url + HOOK, json=hook_call(withdrawal_prefetch()),
                           timeout=30).status_code for _ in range(8)]
    # 5 per minute: the first call above took one; four more pass, then 429
    assert statuses[:4] == [200] * 4 and set(statuses[4:]) == {429}
    limited = httpx.post(server.url + "/assess", json={}, timeout=30)
    assert limited.status_code == 429 and limited.headers["retry-after"]
    assert limited.json()["issue"][0]["code"] == "throttled"
