"""The service's settings: one pydantic model, built by `pumpdx serve` and handed to each
worker process as JSON (PUMPDX_SERVICE_CONFIG)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

ENV_VAR = "PUMPDX_SERVICE_CONFIG"


class ServiceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: str | None = Field(
        default=None,
        description="The URL clients use to reach the service (JWT aud, card links); "
                    "default http://HOST:PORT.")
    insecure_dev: bool = False
    jwks: dict[str, Any] | None = Field(default=None,
                                        description="The clients' JWK Set (public keys).")
    issuers: list[str] = Field(default_factory=list)
    allowed_jku: list[str] = Field(default_factory=list)
    fhir_servers: list[str] = Field(
        default_factory=list,
        description="FHIR servers the service may fetch missing prefetch from; empty: any "
                    "http(s) fhirServer named by an authenticated call.")
    fhir_timeout_s: float = Field(default=10.0, gt=0, le=120)
    kb_dir: Path | None = None
    workers: int = Field(default=1, ge=1, le=64)
    max_body_bytes: int = Field(default=1_000_000, ge=1_000, le=100_000_000)
    rate_limit_per_minute: int = Field(default=600, ge=0, le=10_000_000,
                                       description="Per client address and worker; 0: off.")
    report_store_size: int = Field(default=1_000, ge=1, le=1_000_000)
    log_db: str | None = Field(
        default=None, description="The decision log: a file path, sqlite:///PATH or "
                          "postgresql://USER@HOST/DB; default the SQLite file in the user's "
                          "data folder (pumpdx.decisionlog).")
    replay_db: Path | None = Field(
        default=None, description="SQLite file shared by the workers for the jti replay cache.")
    link_secret: str = Field(default_factory=lambda: os.urandom(32).hex(), min_length=32)

    @model_validator(mode="after")
    def _secure_needs_keys(self) -> ServiceConfig:
        if not self.insecure_dev and (self.jwks is None or not self.issuers):
            raise ValueError("authentication is on: give the clients' JWK Set (--jwks FILE) "
                             "and at least one trusted issuer (--issuer ISS), or run "
                             "--insecure-dev for local use")
        return self

    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"

    def to_env(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_env(cls) -> ServiceConfig:
        raw = os.environ.get(ENV_VAR)
        if raw is None:
            raise RuntimeError(f"{ENV_VAR} is not set (start the service with `pumpdx serve`)")
        return cls.model_validate(json.loads(raw))
