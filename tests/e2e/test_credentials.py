"""Redis credentials: never written to a log, and a wrong password is a clear, fatal error."""

from __future__ import annotations

import pytest

from bananas import Client


@pytest.mark.parametrize("user", ["bananas", "default"])
def test_server_log_masks_the_redis_password(redis_factory, server_factory, user):
    proc = redis_factory(auth=(user, "s3cret-pw"))
    server = server_factory(url=proc.url)
    with Client(proc.url) as client:
        job_id = client.submit_job("add", {"a": 1, "b": 2})
        assert client.get_result(job_id, timeout=10) == {"sum": 3}
    server.stop()
    log = server.log()
    assert f"redis://{user}:***@127.0.0.1:{proc.port}/0" in log
    assert "s3cret-pw" not in log
