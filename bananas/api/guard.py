"""Who may call the API, and how often: Bearer tokens with scopes, and a rate limit per client."""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..auth import Token, verify_secret

MAX_CLIENTS = 10_000
"""Rate-limit buckets kept (least recently used dropped first): memory stays bounded."""


class Denied(Exception):
    """A request refused before it reaches a route: ``status`` 401, 403 or 429."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


class Tokens:
    """Checks ``Authorization: Bearer <secret>`` against the configured tokens.

    scrypt costs tens of milliseconds on purpose, so a secret is verified once; after that
    its SHA-256 digest maps to the token (a digest leaks nothing about the secret, and the
    cache is compared with :func:`hmac.compare_digest`).
    """

    def __init__(self, tokens: Sequence[Token]) -> None:
        self.tokens = tuple(tokens)
        self._known: dict[bytes, Token] = {}

    def identify_cached(self, header: str | None) -> Token | None:
        """The token of a header whose secret was verified before (no scrypt), else None."""
        digest = self._digest(header)
        for known, token in self._known.items():
            if hmac.compare_digest(known, digest):
                return token
        return None

    def identify(self, header: str | None) -> Token:
        """The token a header carries; raises :class:`Denied` (401) otherwise."""
        digest = self._digest(header)
        cached = self.identify_cached(header)
        if cached is not None:
            return cached
        secret = _secret(header)
        for token in self.tokens:
            if verify_secret(secret, token.secret):
                if len(self._known) < 1000:
                    self._known[digest] = token
                return token
        raise Denied(401, "unknown token")

    @staticmethod
    def _digest(header: str | None) -> bytes:
        return hashlib.sha256(_secret(header).encode()).digest()

    @staticmethod
    def require(token: Token, scope: str) -> None:
        """Raises :class:`Denied` (403) when ``token`` lacks ``scope``."""
        if scope not in token.scopes:
            raise Denied(403, f"token {token.name!r} lacks the {scope!r} scope")


def _secret(header: str | None) -> str:
    """The secret of ``Authorization: Bearer <secret>``; raises :class:`Denied` (401)."""
    if not header:
        raise Denied(401, "missing Authorization: Bearer <token>")
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret or len(secret) > 1024:
        raise Denied(401, "Authorization must be: Bearer <token>")
    return secret


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimit:
    """A token bucket per client: ``rate`` requests a second on average, ``burst`` at once."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, client: str) -> None:
        """Spend one request of ``client``; raises :class:`Denied` (429) when none is left."""
        now = self.clock()
        bucket = self._buckets.pop(client, None) or _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        self._buckets[client] = bucket
        while len(self._buckets) > MAX_CLIENTS:
            self._buckets.popitem(last=False)
        if bucket.tokens < 1:
            wait = math.ceil((1 - bucket.tokens) / self.rate)
            raise Denied(429, f"rate limit of {self.rate:g} requests/s exceeded; retry in {wait} s", wait)
        bucket.tokens -= 1
