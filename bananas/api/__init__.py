"""The HTTP API under ``/api/v1/``, a WSGI application the server mounts on its listener.

* ``guard``   — Bearer tokens (scrypt-verified once per process, then cached by digest),
  scopes, and the per-client token-bucket rate limit (429 with ``Retry-After``).
* ``app``     — the WSGI app: routing, JSON bodies (size-limited, validated), error replies.
* ``routes``  — one function per route, each a thin call into :mod:`bananas.ops`.
* ``openapi`` — the OpenAPI 3.1 description served at ``/api/v1/openapi.json``.

Nothing here imports the server: the server imports :func:`make_api` and mounts it.
"""

from .app import ApiSettings, make_api

__all__ = ["ApiSettings", "make_api"]
