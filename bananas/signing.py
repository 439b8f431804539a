"""Signed envelopes: an HMAC-SHA256 over the parts of a job that decide what runs and how.

A client holding a key signs each job it submits; a worker holding the same keys checks the
signature before it looks up the handler, and a job that fails the check is dead-lettered
with a reason (:data:`REASONS`) instead of running. Someone who can write to Redis but has
no key can then queue nothing that runs. What is and is not covered: docs/SECURITY.md.

The signature is the job hash's ``sig`` field, ``v1:<key id>:<issued at, epoch ms>:<mac>``
(the MAC, HMAC-SHA256 cut to 128 bits, in unpadded URL-safe base64). The MAC covers the tag ``bananas-job-v1`` and a
newline, then each of these fields as ``<byte length>:<bytes>\\n`` (so no field can leak
into its neighbour), in this order: namespace, queue, job id, job name, priority,
max_retries (decimal, or empty for the servers' default), timeout (the 16 hex digits of its
IEEE-754 double, or empty), issued at (decimal epoch ms), key id; and last the payload's
exact bytes as ``<byte length>:<bytes>``.

The timeout is signed by its bits, not its text, so ``2`` (TypeScript) and ``2.0`` (Python)
sign alike and every other change shows. The TypeScript client (``sdks/typescript/src/
signing.ts``) builds the same bytes. Pure code: no Redis, no config tree.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import struct
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError

__all__ = ["REASONS", "Refusal", "Signer", "Signing", "Verifier", "canonical", "same_mac"]

VERSION = "v1"
TAG = b"bananas-job-v1"
REASONS = ("unsigned", "bad_signature", "unknown_key")
"""Why a worker refuses a job: no signature while one is required, a signature that does not
match the job, or one made with a key id this worker does not hold."""
KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MIN_SECRET_BYTES = 16
MAC_BYTES = 16
"""The MAC is HMAC-SHA256 cut to its first 128 bits (RFC 2104 allows half the hash): 22
characters, so a signature with a short key id stays under Redis' 64-byte listpack limit
and a small job's hash stays a listpack (a third of the memory of a hashtable)."""
same_mac = hmac.compare_digest
"""How a MAC is compared: in time that does not depend on where the first difference is."""


def _field(text: str) -> bytes:
    raw = text.encode("utf-8", "surrogateescape")
    return b"%d:%s\n" % (len(raw), raw)


def _timeout_text(timeout: float | None) -> str:
    return "" if timeout is None else struct.pack(">d", float(timeout)).hex()


def canonical(namespace: str, queue: str, job_id: str, name: str, priority: str, max_retries: int | None,
              timeout: float | None, issued_at: int, key_id: str, payload: str) -> bytes:
    """The bytes a signature's MAC covers (see the module's docstring)."""
    raw = payload.encode("utf-8", "surrogateescape")
    fields = (namespace, queue, job_id, name, priority, "" if max_retries is None else str(int(max_retries)),
              _timeout_text(timeout), str(issued_at), key_id)
    text = "".join([f"{len(f)}:{f}\n" for f in fields])
    # ASCII (the usual case): characters are bytes, so one encode does; else field by field
    head = text.encode() if text.isascii() else b"".join(map(_field, fields))
    return b"%s\n%s%d:%s" % (TAG, head, len(raw), raw)


def _keyed(secret: bytes) -> hmac.HMAC:
    """An HMAC-SHA256 state with the key already absorbed: each MAC copies it (a third cheaper
    than keying anew per job with OpenSSL 3)."""
    return hmac.new(secret, digestmod=hashlib.sha256)


def _mac(keyed: hmac.HMAC, message: bytes) -> bytes:
    h = keyed.copy()
    h.update(message)
    return base64.urlsafe_b64encode(h.digest()[:MAC_BYTES]).rstrip(b"=")


class Signer:
    """Signs jobs with one key, for one namespace: what a client holds."""

    def __init__(self, key_id: str, secret: bytes, namespace: str,
                 clock: Callable[[], float] = time.time) -> None:
        self.key_id = key_id
        self._keyed = _keyed(secret)
        self.namespace = namespace
        self.clock = clock

    def __repr__(self) -> str:
        return f"Signer(key_id={self.key_id!r}, namespace={self.namespace!r})"

    def sign(self, queue: str, job_id: str, name: str, priority: str, max_retries: int | None,
             timeout: float | None, payload: str) -> str:
        """The ``sig`` field of one job."""
        issued_at = int(self.clock() * 1000)
        message = canonical(self.namespace, queue, job_id, name, priority, max_retries, timeout, issued_at,
                            self.key_id, payload)
        return f"{VERSION}:{self.key_id}:{issued_at}:{_mac(self._keyed, message).decode()}"


@dataclass(frozen=True)
class Refusal:
    """Why a job is not run: one of :data:`REASONS`, a message for the job's error, the key id."""

    reason: str
    message: str
    key_id: str = ""


class Verifier:
    """Checks the signatures of delivered jobs against every accepted key: what a worker holds."""

    def __init__(self, keys: Mapping[str, bytes], namespace: str, require: bool) -> None:
        self._keys = {key_id: _keyed(secret) for key_id, secret in keys.items()}
        self.namespace = namespace
        self.require = require

    def __repr__(self) -> str:
        return f"Verifier(key_ids={sorted(self._keys)!r}, require={self.require})"

    def check(self, queue: str, job_id: str, name: str, priority: str, max_retries: int | None,
              timeout: float | None, payload: str, sig: str) -> Refusal | None:
        """None when the job may run, else why not. Never raises, whatever ``sig`` holds."""
        if not sig:
            return Refusal("unsigned", "the job carries no signature and this worker requires one") \
                if self.require else None
        parts = sig.split(":")
        if len(parts) != 4 or parts[0] != VERSION or not parts[2].isdigit():
            return Refusal("bad_signature", "the job's signature is not of the form v1:<key id>:<ms>:<mac>")
        _, key_id, issued_at, given = parts
        keyed = self._keys.get(key_id)
        if keyed is None:
            shown = key_id if KEY_ID.fullmatch(key_id) else "(unreadable)"
            return Refusal("unknown_key", f"the job is signed with key id {shown}, which this worker does "
                                          "not hold", shown)
        message = canonical(self.namespace, queue, job_id, name, priority, max_retries, timeout, int(issued_at),
                            key_id, payload)
        if not same_mac(_mac(keyed, message), given.encode("utf-8", "surrogateescape")):
            return Refusal("bad_signature", f"the job's signature (key id {key_id}) does not match its "
                                            "fields: it was changed after signing, or forged", key_id)
        return None


@dataclass(frozen=True, repr=False)
class Signing:
    """Keys by key id, the key new jobs are signed with, and whether unsigned jobs are refused.

    ``Client(url, signing=Signing({"k2": secret2, "k1": secret1}, sign_with="k2"))``: the
    client signs with ``k2``; a worker built with the same keys accepts jobs signed with
    either (rotation: add the new key everywhere, sign with it, drop the old one once no job
    signed with it is left). Secrets are bytes (text is taken as its UTF-8 bytes) of at
    least 16 bytes; the repr never shows them. Raises :class:`ConfigError` for bad values.
    """

    keys: Mapping[str, bytes]
    sign_with: str | None = None
    require: bool = False

    def __post_init__(self) -> None:
        keys: dict[str, bytes] = {}
        for key_id, secret in dict(self.keys).items():
            where = f"security.signing.keys.{key_id}"
            if not isinstance(key_id, str) or not KEY_ID.fullmatch(key_id):
                raise ConfigError(f"security.signing.keys: key id {key_id!r} must be 1-64 of A-Z a-z 0-9 _ . -")
            raw = secret.encode() if isinstance(secret, str) else secret
            if not isinstance(raw, bytes) or len(raw) < MIN_SECRET_BYTES:
                raise ConfigError(f"{where}: a secret of at least {MIN_SECRET_BYTES} bytes is required "
                                  "(e.g. 32 random bytes, base64)")
            keys[key_id] = raw
        object.__setattr__(self, "keys", keys)
        if self.sign_with is not None and self.sign_with not in keys:
            raise ConfigError(f"security.signing.sign_with: {self.sign_with!r} is not among the keys "
                              f"({', '.join(sorted(keys)) or 'none'})")
        if self.require and not keys:
            raise ConfigError("security.signing.require: needs at least one key in security.signing.keys")

    def __repr__(self) -> str:
        return f"Signing(key_ids={sorted(self.keys)!r}, sign_with={self.sign_with!r}, require={self.require})"

    @property
    def enabled(self) -> bool:
        return bool(self.keys)

    def signer(self, namespace: str, clock: Callable[[], float] = time.time) -> Signer | None:
        """The signer of new jobs, or None without ``sign_with``."""
        if self.sign_with is None:
            return None
        return Signer(self.sign_with, self.keys[self.sign_with], namespace, clock)

    def verifier(self, namespace: str) -> Verifier | None:
        """The check workers run, or None when no key is configured (nothing is checked)."""
        return Verifier(self.keys, namespace, self.require) if self.keys else None

    @classmethod
    def from_config(cls, section: Any, environ: Mapping[str, str] | None = None) -> Signing:
        """From the config's ``security.signing`` section: each key's value is the secret itself,
        or ``{secret_file: path}`` (one trailing newline dropped), or ``{secret_env: NAME}``."""
        env = os.environ if environ is None else environ
        keys = {str(k): _secret(str(k), v, env) for k, v in section.keys.items()}
        return cls(keys, section.sign_with or None, section.require)


def _secret(key_id: str, value: object, environ: Mapping[str, str]) -> bytes:
    where = f"security.signing.keys.{key_id}"
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    if not isinstance(value, Mapping) or len(value) != 1 or not set(value) <= {"secret", "secret_file", "secret_env"}:
        raise ConfigError(f"{where}: give the secret, or one of {{secret: ...}}, {{secret_file: path}}, "
                          "{secret_env: NAME}")
    (kind, arg), = value.items()
    if not isinstance(arg, str) or not arg:
        raise ConfigError(f"{where}.{kind}: expected a non-empty string")
    if kind == "secret":
        return arg.encode()
    if kind == "secret_env":
        if arg not in environ:
            raise ConfigError(f"{where}.secret_env: the environment variable {arg} is not set")
        return environ[arg].encode()
    try:
        raw = Path(arg).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{where}.secret_file: cannot read {arg}: {exc.strerror}") from None
    return raw[:-1] if raw.endswith(b"\n") else raw
