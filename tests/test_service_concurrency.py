"""The service on 2 worker processes: 200 concurrent CDS Hooks calls give the same cards
as the same calls made one after another, and a token is accepted once across workers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .service_support import (
    HOOK,
    ISSUER,
    Server,
    Signer,
    bundle,
    condition,
    hook_call,
    observation,
    serve,
    withdrawal_prefetch,
)


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer()


@pytest.fixture(scope="module")
def server(signer: Signer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("serve2")
    jwks = tmp / "jwks.json"
    jwks.write_text(json.dumps(signer.jwks()))
    with serve(tmp, "--jwks", str(jwks), "--issuer", ISSUER, "--workers", "2",
               "--rate-limit", "0") as s:
        yield s


def variants() -> list[dict[str, Any]]:
    """Four different patients' records: withdrawal with an empty or a full reservoir,
    an overdose, and a mixed picture."""
    empty = withdrawal_prefetch(reservoir_ml=0)
    full = withdrawal_prefetch(reservoir_ml=15)
    overdose = withdrawal_prefetch(reservoir_ml=1)
    overdose["conditions"] = bundle(condition("problem-overdose"))
    overdose["observations"] = bundle(observation("sign-respiratory-depression"),
                                      observation("sign-sedation"))
    mixed = withdrawal_prefetch(reservoir_ml=0)
    mixed["conditions"]["entry"].append({"resource": condition("problem-overdose")})
    return [empty, full, overdose, mixed]


def comparable(response: httpx.Response) -> str:
    """The cards with the report links' expiring signatures taken out."""
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    for card in cards:
        for link in card.get("links", []):
            link["url"] = link["url"].split("?")[0]
    return json.dumps(cards, sort_keys=True)


def test_200_concurrent_calls_give_the_same_cards_as_sequential_calls(
        server: Server, signer: Signer) -> None:
    url = server.url + HOOK
    bodies = [hook_call(variants()[i % 4]) for i in range(200)]

    def headers() -> dict[str, str]:
        return {"Authorization": f"Bearer {signer.token(url)}"}

    with httpx.Client(timeout=120) as client:
        sequential = [comparable(client.post(url, json=b, headers=headers())) for b in bodies]

    async def all_at_once() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        async with httpx.AsyncClient(timeout=300, limits=limits) as client:
            return await asyncio.gather(*(client.post(url, json=b, headers=headers())
                                          for b in bodies))

    concurrent = [comparable(r) for r in asyncio.run(all_at_once())]
    assert concurrent == sequential
    assert len(set(sequential)) == 4  # the four records give four different answers
    assert all('"critical"' in s for s in sequential)


def test_a_token_is_accepted_once_across_workers(server: Server, signer: Signer) -> None:
    url = server.url + HOOK
    token = signer.token(url)
    body = hook_call(variants()[0])

    async def replay() -> list[int]:
        async with httpx.AsyncClient(timeout=120) as client:
            rs = await asyncio.gather(*(client.post(
                url, json=body, headers={"Authorization": f"Bearer {token}"})
                for _ in range(10)))
            return [r.status_code for r in rs]

    assert sorted(asyncio.run(replay())) == [200] + [401] * 9
