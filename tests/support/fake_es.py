"""An HTTP server that answers like Elasticsearch 8 for what the log shipper uses.

It speaks the ``_bulk`` API faithfully enough for the official client: NDJSON action/source
pairs, gzip request bodies (``Content-Encoding: gzip``), per-item results with
``errors: true`` when any item failed, 409 for a ``create`` whose ``_id`` exists, and the
``X-Elastic-Product: Elasticsearch`` header the client's product check demands. It also
keeps ILM policies, index templates and data streams for ``es-init``/``es-clean``.

Faults a test can switch on at any time (all thread-safe):
``status`` (every request answers e.g. 500 or 429), ``item_429`` (each new document is
refused with 429 that many times before it is accepted), ``reject`` (documents whose
``msg`` contains the text get a 400 mapping error), ``delay`` (seconds before answering),
``drop`` (close the socket without answering), ``product_header=False``.
"""

from __future__ import annotations

import gzip
import itertools
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CONTENT_TYPE = "application/vnd.elasticsearch+json;compatible-with=8"
_ERROR_TYPES = {
    400: "illegal_argument_exception",
    404: "resource_not_found_exception",
    429: "es_rejected_execution_exception",
    500: "internal_server_error",
    503: "unavailable_shards_exception",
}


def error_body(status: int, reason: str) -> dict[str, Any]:
    """An error answer shaped like Elasticsearch's."""
    kind = _ERROR_TYPES.get(status, "exception")
    cause = {"type": kind, "reason": reason}
    return {"error": {"root_cause": [cause], **cause}, "status": status}


class FakeElasticsearch:
    """A running fake cluster on 127.0.0.1; ``url`` to connect, attributes to inspect and steer."""

    def __init__(self, port: int = 0) -> None:
        self.lock = threading.Lock()
        self.docs: list[dict[str, Any]] = []
        self.ids: set[str] = set()
        self.refusals: dict[str, int] = {}
        self.policies: dict[str, Any] = {}
        self.templates: dict[str, Any] = {}
        self.data_streams: set[str] = set()
        self.bulk_requests = 0
        self.gzip_requests = 0
        self.requests = 0
        self.status: int | None = None
        self.item_429 = 0
        self.reject: str | None = None
        self.delay = 0.0
        self.drop = False
        self.product_header = True
        self._ids = itertools.count(1)
        self.server = _QuietServer(("127.0.0.1", port), _make_handler(self))
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeElasticsearch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def heal(self) -> None:
        """Switch every fault off."""
        with self.lock:
            self.status, self.item_429, self.reject, self.delay, self.drop = None, 0, None, 0.0, False
            self.product_header = True

    def wait_for_docs(self, count: int, timeout: float = 5.0) -> bool:
        """True once at least ``count`` documents are stored, False after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.docs) >= count:
                    return True
            time.sleep(0.01)
        return False

    def messages(self) -> list[str]:
        with self.lock:
            return [doc.get("msg", "") for doc in self.docs]

    # ---- request handling (called from the server's threads) ----

    def bulk(self, body: bytes, default_index: str | None) -> tuple[int, dict[str, Any]]:
        """Apply one ``_bulk`` body; the status and answer Elasticsearch would give."""
        started = time.monotonic()
        try:
            lines = [json.loads(line) for line in body.split(b"\n") if line.strip()]
        except ValueError as exc:
            return 400, error_body(400, f"Malformed content, must start with an object: {exc}")
        items = []
        with self.lock:
            self.bulk_requests += 1
            pos = 0
            while pos < len(lines):
                action = lines[pos]
                if not isinstance(action, dict) or len(action) != 1:
                    return 400, error_body(400, "Malformed action/metadata line")
                op, meta = next(iter(action.items()))
                source = None
                if op != "delete":
                    if pos + 1 >= len(lines):
                        return 400, error_body(400, "The bulk request must be terminated by a newline")
                    source = lines[pos + 1]
                items.append({op: self._item(op, dict(meta), source, default_index)})
                pos += 2 if source is not None else 1
        errors = any(next(iter(item.values()))["status"] >= 300 for item in items)
        took = int((time.monotonic() - started) * 1000)
        return 200, {"errors": errors, "took": took, "items": items}

    def _item(self, op: str, meta: dict[str, Any], source: Any, default_index: str | None) -> dict[str, Any]:
        index = meta.get("_index", default_index)
        doc_id = str(meta.get("_id") or f"fake{next(self._ids)}")
        base = {"_index": index, "_id": doc_id}
        if index is None:
            return {**base, "status": 400, "error": {"type": "action_request_validation_exception",
                                                     "reason": "Validation Failed: 1: index is missing;"}}
        if op == "index" and self._is_data_stream(index):
            return {**base, "status": 400, "error": {
                "type": "illegal_argument_exception",
                "reason": "only write ops with an op_type of create are allowed in data streams"}}
        if op == "create" and doc_id in self.ids:
            return {**base, "status": 409, "error": {"type": "version_conflict_engine_exception",
                                                     "reason": f"[{doc_id}]: version conflict, document "
                                                               "already exists"}}
        if self.reject and self.reject in str(source.get("msg", "")):
            return {**base, "status": 400, "error": {"type": "document_parsing_exception",
                                                     "reason": "failed to parse field [msg]"}}
        if self.refusals.get(doc_id, 0) < self.item_429:
            self.refusals[doc_id] = self.refusals.get(doc_id, 0) + 1
            error = {"type": "es_rejected_execution_exception",
                     "reason": "rejected execution of coordinating operation"}
            return {**base, "status": 429, "error": error}
        if self._is_data_stream(index):
            self.data_streams.add(index)
        self.ids.add(doc_id)
        self.docs.append(source)
        return {**base, "_version": 1, "result": "created", "status": 201, "_seq_no": len(self.docs) - 1,
                "_primary_term": 1, "_shards": {"total": 1, "successful": 1, "failed": 0}}

    def _is_data_stream(self, index: str) -> bool:
        for template in self.templates.values():
            if "data_stream" in template and any(
                index.startswith(p.rstrip("*")) if p.endswith("*") else index == p
                for p in template.get("index_patterns", [])
            ):
                return True
        return False

    def named(self, store: dict[str, Any], method: str, name: str, body: Any) -> tuple[int, dict[str, Any]]:
        """PUT/GET/DELETE of a named object (ILM policy or index template)."""
        with self.lock:
            if method == "PUT":
                store[name] = body
                return 200, {"acknowledged": True}
            if name not in store:
                return 404, error_body(404, f"[{name}] not found")
            if method == "DELETE":
                del store[name]
                return 200, {"acknowledged": True}
            return 200, {name: store[name]}

    def delete_data_stream(self, name: str) -> tuple[int, dict[str, Any]]:
        with self.lock:
            if name not in self.data_streams:
                return 404, error_body(404, f"no such index [{name}]")
            self.data_streams.discard(name)
            self.docs.clear()
            self.ids.clear()
            return 200, {"acknowledged": True}


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that timed out and hung up is normal here: no traceback on stderr."""


def _make_handler(fake: FakeElasticsearch) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            self._serve("GET")

        def do_HEAD(self) -> None:
            self._serve("HEAD")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PUT(self) -> None:
            self._serve("PUT")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def _body(self) -> bytes:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Content-Encoding", "").lower() == "gzip":
                with fake.lock:
                    fake.gzip_requests += 1
                raw = gzip.decompress(raw)
            return raw

        def _serve(self, method: str) -> None:
            body = self._body()
            with fake.lock:
                fake.requests += 1
                status, delay, drop = fake.status, fake.delay, fake.drop
            if delay:
                time.sleep(delay)
            if drop:  # a dead peer: the request was read, no answer ever comes
                self.close_connection = True
                self.connection.close()
                return
            if status is not None:
                self._answer(status, error_body(status, "fault injected by the test"))
                return
            self._answer(*self._route(method, self.path.split("?", 1)[0], body))

        def _route(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
            parts = [p for p in path.split("/") if p]
            handlers: dict[tuple[str, ...], Callable[[], tuple[int, dict[str, Any]]]] = {
                (): lambda: (200, {"name": "fake", "cluster_name": "bananas-test", "version": {
                    "number": "8.15.0", "build_flavor": "default"}, "tagline": "You Know, for Search"}),
            }
            if tuple(parts) in handlers:
                return handlers[tuple(parts)]()
            if parts[-1] == "_bulk" and method in ("POST", "PUT") and len(parts) <= 2:
                return fake.bulk(body, parts[0] if len(parts) == 2 else None)
            payload = json.loads(body) if body.strip() else None
            if parts[:2] == ["_ilm", "policy"] and len(parts) == 3:
                return fake.named(fake.policies, method, parts[2], payload)
            if parts[0] == "_index_template" and len(parts) == 2:
                return fake.named(fake.templates, method, parts[1], payload)
            if parts[0] == "_data_stream" and len(parts) == 2 and method == "DELETE":
                return fake.delete_data_stream(parts[1])
            return 404, error_body(404, f"no handler found for uri [{path}] and method [{method}]")

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(data)))
            if fake.product_header:
                self.send_header("X-Elastic-Product", "Elasticsearch")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

    return Handler
