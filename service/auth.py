"""CDS Hooks authentication: the client's signed JWT (RFC 7519/7515), checked against a
configured JWK Set, allow-listed issuers, the endpoint URL as audience, exp, iat and a
jti that may be used once. Also the signed, expiring report links put on cards."""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import jwt

# Asymmetric only: the client signs, the service holds public keys ("none" and HMAC never).
ALGORITHMS = ("ES384", "RS384", "ES256", "RS256", "ES512", "RS512", "PS256", "PS384")
LEEWAY_S = 30
MAX_LIFETIME_S = 300  # the spec's exp: no more than 5 minutes in the future
MAX_TOKEN_CHARS = 16_384


class AuthError(Exception):
    """The request is not authenticated (401); the message names what is wrong."""


class ReplayStoreFull(Exception):
    """The replay cache holds its maximum of unexpired token ids (503)."""


class ReplayCache(Protocol):
    def first_use(self, key: str, expires_at: float) -> bool: ...


class MemoryReplayCache:
    """jti -> expiry, in one process; bounded: expired ids are dropped, and when it is
    still full a new token is refused rather than an unexpired id forgotten."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self.max_entries = max_entries
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_use(self, key: str, expires_at: float) -> bool:
        now = time.time()
        with self._lock:
            if key in self._seen and self._seen[key] >= now:
                return False
            if len(self._seen) >= self.max_entries:
                self._seen = {k: v for k, v in self._seen.items() if v >= now}
                if len(self._seen) >= self.max_entries:
                    raise ReplayStoreFull()
            self._seen[key] = expires_at
            return True


class SqliteReplayCache:
    """The same, shared by the worker processes of one service through a SQLite file."""

    def __init__(self, path: Path, max_entries: int = 100_000) -> None:
        self.path = path
        self.max_entries = max_entries
        self._local = threading.local()
        with self._db() as db:
            db.execute("CREATE TABLE IF NOT EXISTS jti (key TEXT PRIMARY KEY, exp REAL)")

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            self._local.db = db
        return db

    def first_use(self, key: str, expires_at: float) -> bool:
        now = time.time()
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT exp FROM jti WHERE key = ?", (key,)).fetchone()
            if row is not None and row[0] >= now:
                return False
            (count,) = db.execute("SELECT COUNT(*) FROM jti").fetchone()
            if count >= self.max_entries:
                db.execute("DELETE FROM jti WHERE exp < ?", (now,))
                (count,) = db.execute("SELECT COUNT(*) FROM jti").fetchone()
                if count >= self.max_entries:
                    raise ReplayStoreFull()
            db.execute("INSERT OR REPLACE INTO jti VALUES (?, ?)", (key, expires_at))
            return True
        finally:
            db.execute("COMMIT")


@dataclass(frozen=True)
class Claims:
    issuer: str
    subject: str | None
    tenant: str | None
    jti: str


class JwtVerifier:
    """Verifies the bearer JWT of a call; `audience` is the URL of the receiving endpoint."""

    def __init__(self, jwks: dict[str, Any], issuers: list[str], replay: ReplayCache,
                 allowed_jku: list[str] | None = None) -> None:
        try:
            self.keys = jwt.PyJWKSet.from_dict(jwks).keys
        except (jwt.PyJWKSetError, jwt.InvalidKeyError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"JWK Set: {exc}") from None
        self.keys = [k for k in self.keys if getattr(k, "key_type", "") in ("RSA", "EC")]
        if not self.keys:
            raise ValueError("JWK Set: no RSA or EC public key")
        if not issuers:
            raise ValueError("at least one trusted issuer is needed")
        self.issuers = list(issuers)
        self.replay = replay
        self.allowed_jku = set(allowed_jku or [])

    def _key(self, header: dict[str, Any]) -> Any:
        kid = header.get("kid")
        if kid is None:
            if len(self.keys) == 1:
                return self.keys[0].key
            raise AuthError("the token has no kid and the JWK Set holds several keys")
        for k in self.keys:
            if k.key_id == kid:
                return k.key
        raise AuthError("the token's kid is not in the configured JWK Set")

    def verify(self, authorization: str | None, audience: str) -> Claims:
        if not authorization:
            raise AuthError("missing Authorization: Bearer <JWT>")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthError("the Authorization header must be 'Bearer <JWT>'")
        if len(token) > MAX_TOKEN_CHARS:
            raise AuthError("the token is too long")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError("the bearer token is not a JWT") from None
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise AuthError(f"alg must be one of {', '.join(ALGORITHMS)} (the token is "
                            f"unsigned or uses a shared secret)")
        jku = header.get("jku")
        if jku is not None and jku not in self.allowed_jku:
            raise AuthError("the token's jku is not allow-listed")
        try:
            claims = jwt.decode(
                token, self._key(header), algorithms=[alg], audience=audience,
                issuer=self.issuers, leeway=LEEWAY_S,
                options={"require": ["iss", "aud", "exp", "iat", "jti"]})
        except jwt.ExpiredSignatureError:
            raise AuthError("the token has expired") from None
        except jwt.InvalidAudienceError:
            raise AuthError(f"the token's aud is not this endpoint ({audience})") from None
        except jwt.InvalidIssuerError:
            raise AuthError("the token's issuer is not trusted") from None
        except jwt.ImmatureSignatureError:
            raise AuthError("the token's iat is in the future") from None
        except jwt.InvalidSignatureError:
            raise AuthError("the token's signature does not verify") from None
        except jwt.MissingRequiredClaimError as exc:
            raise AuthError(f"the token lacks the {exc.claim} claim") from None
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {type(exc).__name__}") from None
        now = time.time()
        exp = float(claims["exp"])
        if exp > now + MAX_LIFETIME_S + LEEWAY_S:
            raise AuthError("the token's exp is more than 5 minutes ahead")
        jti = claims["jti"]
        if not isinstance(jti, str) or not 0 < len(jti) <= 512:
            raise AuthError("the token's jti must be a string of 1-512 characters")
        if not self.replay.first_use(f"{claims['iss']}\n{jti}", exp + LEEWAY_S):
            raise AuthError("the token's jti was already used (replay)")
        return Claims(issuer=str(claims["iss"]), subject=_opt(claims.get("sub")),
                      tenant=_opt(claims.get("tenant")), jti=jti)


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)[:500]


class LinkSigner:
    """Signed, expiring report links: a clinician opens the card's link in a browser,
    which carries no JWT; the link itself grants access to that one report."""

    def __init__(self, secret: bytes, lifetime_s: int = 24 * 3600) -> None:
        self.secret = secret
        self.lifetime_s = lifetime_s

    def _mac(self, decision_id: str, exp: int) -> str:
        msg = f"{decision_id}\n{exp}".encode()
        return hmac.new(self.secret, msg, hashlib.sha256).hexdigest()

    def query(self, decision_id: str) -> str:
        exp = int(time.time()) + self.lifetime_s
        return f"exp={exp}&sig={self._mac(decision_id, exp)}"

    def valid(self, decision_id: str, exp: str | None, sig: str | None) -> bool:
        if exp is None or sig is None or not exp.isdigit() or len(exp) > 12:
            return False
        if int(exp) < time.time():
            return False
        return hmac.compare_digest(self._mac(decision_id, int(exp)), sig)
