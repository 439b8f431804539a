"""Secrets as the config stores them: salted scrypt hashes, checked in constant time.

The stored form is ``scrypt$<n>$<r>$<p>$<salt>$<hash>`` (salt and hash in unpadded
URL-safe base64), the output of ``bananas hash-secret``. Only :mod:`hashlib`, :mod:`hmac`
and :mod:`os` are used: nothing to install, nothing to keep up to date.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

__all__ = ["StoredSecret", "User", "hash_secret", "parse_stored", "parse_users", "verify_secret"]

SCHEME = "scrypt"
DEFAULT_N, DEFAULT_R, DEFAULT_P = 2**14, 8, 1
"""OWASP's scrypt floor (N=2^14, r=8, p=1): about 16 MiB and 30-60 ms a check on one core."""
SALT_BYTES, HASH_BYTES = 16, 32
MAX_N = 2**20  # a stored form asking for more memory than this is refused, not computed
MAX_SECRET_BYTES = 4096


@dataclass(frozen=True)
class StoredSecret:
    """A parsed stored form."""

    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes

    def __str__(self) -> str:
        return "$".join((SCHEME, str(self.n), str(self.r), str(self.p), _b64(self.salt), _b64(self.digest)))


def hash_secret(secret: str, *, n: int = DEFAULT_N, r: int = DEFAULT_R, p: int = DEFAULT_P) -> str:
    """The stored form of ``secret`` with a fresh random salt.

    Raises :class:`ValueError` for an empty or oversized secret.
    """
    raw = _secret_bytes(secret)
    if not raw:
        raise ValueError("the secret is empty")
    salt = os.urandom(SALT_BYTES)
    return str(StoredSecret(n, r, p, salt, _derive(raw, salt, n, r, p)))


def parse_stored(text: str, key: str = "secret_hash") -> StoredSecret:
    """Read a stored form; raises :class:`ConfigError` naming ``key`` when it is not one."""
    parts = text.split("$") if isinstance(text, str) else []
    if len(parts) != 6 or parts[0] != SCHEME:
        raise ConfigError(f"{key}: not a stored secret (expected scrypt$n$r$p$salt$hash, "
                          "the output of `bananas hash-secret`)")
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, digest = _unb64(parts[4]), _unb64(parts[5])
    except ValueError as exc:
        raise ConfigError(f"{key}: unreadable stored secret ({exc})") from exc
    if n < 2 or n & (n - 1) or n > MAX_N or not 0 < r <= 64 or not 0 < p <= 16:
        raise ConfigError(f"{key}: scrypt parameters out of range (n a power of two up to {MAX_N}, "
                          "r 1-64, p 1-16)")
    if len(salt) < 8 or len(digest) < 16:
        raise ConfigError(f"{key}: salt or hash too short")
    return StoredSecret(n, r, p, salt, digest)


def verify_secret(secret: str, stored: StoredSecret | str) -> bool:
    """True when ``secret`` hashes to ``stored``; the final comparison takes constant time."""
    parsed = stored if isinstance(stored, StoredSecret) else parse_stored(stored)
    raw = _secret_bytes(secret)
    if not raw:
        return False
    candidate = _derive(raw, parsed.salt, parsed.n, parsed.r, parsed.p, len(parsed.digest))
    return hmac.compare_digest(candidate, parsed.digest)


def _derive(raw: bytes, salt: bytes, n: int, r: int, p: int, length: int = HASH_BYTES) -> bytes:
    return hashlib.scrypt(raw, salt=salt, n=n, r=r, p=p, maxmem=256 * r * (n + p + 2), dklen=length)


def _secret_bytes(secret: str) -> bytes:
    raw = secret.encode()
    if len(raw) > MAX_SECRET_BYTES:
        raise ValueError(f"the secret is longer than {MAX_SECRET_BYTES} bytes")
    return raw


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError("bad base64") from exc


SCOPES = ("read", "operate", "submit")


@dataclass(frozen=True)
class Token:
    """One API token of the config (``http.tokens``): who it is, its stored secret, its scopes."""

    name: str
    secret: StoredSecret
    scopes: frozenset[str]


def _entries(entries: object, key: str, fields: tuple[str, ...]) -> Iterator[tuple[str, dict[str, Any], str]]:
    """Each config entry of a list of ``{name, secret_hash, …}`` mappings as (where, entry, name),
    checked for what every such list shares: a mapping, known keys, a unique name of 1-100
    characters. Raises ConfigError naming the entry."""
    shape = ", ".join(fields)
    if not isinstance(entries, list):
        raise ConfigError(f"{key}: expected a list of {{{shape}}}")
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        where = f"{key}[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected a mapping with {shape}")
        unknown = sorted(set(entry) - set(fields))
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]} (known: {shape})")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise ConfigError(f"{where}.name: a name of 1-100 characters is required")
        if name in seen:
            raise ConfigError(f"{where}.name: {name!r} is used twice")
        seen.add(name)
        yield where, entry, name


def parse_tokens(entries: object, key: str = "http.tokens") -> tuple[Token, ...]:
    """Read ``http.tokens`` entries ``{name, secret_hash, scopes}``; raises ConfigError naming the entry."""
    out: list[Token] = []
    for where, entry, name in _entries(entries, key, ("name", "secret_hash", "scopes")):
        scopes = entry.get("scopes", ["read"])
        if not isinstance(scopes, list) or not scopes or any(s not in SCOPES for s in scopes):
            raise ConfigError(f"{where}.scopes: a non-empty list of {', '.join(SCOPES)}")
        secret = parse_stored(entry.get("secret_hash", ""), f"{where}.secret_hash")
        out.append(Token(name, secret, frozenset(scopes)))
    return tuple(out)


ROLES = ("viewer", "operator")


@dataclass(frozen=True)
class User:
    """One dashboard user of the config (``dashboard.users``): name, stored secret, role."""

    name: str
    secret: StoredSecret
    role: str

    @property
    def can_operate(self) -> bool:
        return self.role == "operator"


def parse_users(entries: object, key: str = "dashboard.users") -> tuple[User, ...]:
    """Read ``dashboard.users`` entries ``{name, secret_hash, role}``; raises ConfigError naming the entry."""
    out: list[User] = []
    for where, entry, name in _entries(entries, key, ("name", "secret_hash", "role")):
        role = entry.get("role", "viewer")
        if role not in ROLES:
            raise ConfigError(f"{where}.role: one of {', '.join(ROLES)}")
        secret = parse_stored(entry.get("secret_hash", ""), f"{where}.secret_hash")
        out.append(User(name, secret, role))
    return tuple(out)
