"""Schemathesis against a running server: every route answers as its OpenAPI 3.1 document says,
with generated inputs (a bounded number of examples per operation), and never with a 5xx."""

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from bananas.auth import hash_secret
from tests.support.redis_proc import RedisProcess, free_port
from tests.support.server_proc import ServerProcess

SECRET = "schema-admin-secret"


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    proc = RedisProcess(tmp_path_factory.mktemp("schema-redis"), aof=False).start()
    port = free_port()
    token = {"name": "admin", "secret_hash": hash_secret(SECRET, n=2**10), "scopes": ["read", "operate", "submit"]}
    server = ServerProcess(tmp_path_factory.mktemp("schema"), proc.url, {
        "http": {"port": port, "host": "127.0.0.1", "tokens": [token], "rate_limit": 1000, "rate_burst": 1000},
        "worker": {"queues": ["default"]}})
    server.start()
    try:
        yield schemathesis.openapi.from_url(f"http://127.0.0.1:{port}/api/v1/openapi.json", wait_for_schema=15)
    finally:
        server.kill_all()
        proc.stop()


def test_every_route_conforms_to_its_openapi_document(api_schema):
    # schemathesis' own pytest loader does not run under this pytest, so the operations are
    # walked here, each with a bounded Hypothesis run of its generated cases
    checked = []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            # a cursor is opaque: one the server never gave out is rightly a 400, not accepted
            excluded = [positive_data_acceptance] if (case.query or {}).get("cursor") else []
            case.call_and_validate(headers={"Authorization": f"Bearer {SECRET}"}, timeout=10,
                                   excluded_checks=excluded)

        started = time.monotonic()
        check()
        assert time.monotonic() - started < 60, f"{operation.label} took too long"
        checked.append(operation.label)
    assert len(checked) == 14, checked
