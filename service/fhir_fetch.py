"""Fetch a prefetch query the client did not send from its FHIR server (with the
fhirAuthorization token when given): bounded in time, size and pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from .errors import ServiceError, parse_json_body

MAX_PAGES = 10
MAX_RESPONSE_BYTES = 5_000_000


def query_for(template: str, patient_id: str) -> str:
    return template.replace("{{context.patientId}}", quote(patient_id, safe=""))


async def fetch_bundle(client: httpx.AsyncClient, base: str, query: str,
                       token: str | None) -> dict[str, Any]:
    """GET base/query and its next pages (same server only); one searchset Bundle."""
    headers = {"Accept": "application/fhir+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    url: str | None = f"{base.rstrip('/')}/{query}"
    entries: list[Any] = []
    pages = 0
    while url is not None and pages < MAX_PAGES:
        pages += 1
        data = await _get_json(client, url, headers)
        if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
            raise _upstream(f"{url}: the FHIR server did not answer with a Bundle")
        page_entries = data.get("entry") or []
        if not isinstance(page_entries, list):
            raise _upstream(f"{url}: Bundle.entry is not a list")
        entries.extend(page_entries)
        url = None
        for link in data.get("link") or []:
            if isinstance(link, dict) and link.get("relation") == "next":
                nxt = link.get("url")
                if isinstance(nxt, str) and nxt.startswith(base.rstrip("/") + "/"):
                    url = nxt
    return {"resourceType": "Bundle", "type": "searchset", "entry": entries}


async def _get_json(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> Any:
    try:
        async with client.stream("GET", url, headers=headers) as response:
            if response.status_code != 200:
                raise _upstream(f"{url}: the FHIR server answered {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > MAX_RESPONSE_BYTES:
                    raise _upstream(f"{url}: the FHIR server's answer is over "
                                    f"{MAX_RESPONSE_BYTES} bytes")
    except httpx.HTTPError as exc:
        raise _upstream(f"{url}: cannot reach the FHIR server ({type(exc).__name__})") from None
    try:
        return parse_json_body(bytes(body))
    except ServiceError as exc:
        raise _upstream(f"{url}: {exc}") from None


def _upstream(message: str) -> ServiceError:
    return ServiceError(502, "transient", message)
