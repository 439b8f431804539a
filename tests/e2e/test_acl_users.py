"""The least-privilege Redis users of deploy/redis/users.acl, on a real redis-server: each
role can do its work and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from bananas import Client, RedisAuthError
from tests.support.redis_proc import RedisProcess
from tests.support.server_proc import ServerProcess
from tests.support.waiting import wait_until

ACL = Path(__file__).resolve().parents[2] / "deploy" / "redis" / "users.acl"
PASSWORDS = {"worker": "w0rker-pw", "producer": "pr0ducer-pw", "viewer": "v1ewer-pw"}


@pytest.fixture
def acl_redis(tmp_path):
    text = ACL.read_text()
    for role, password in PASSWORDS.items():
        text = text.replace(f">CHANGE-ME-{role}", f">{password}")
    text += "user admin on >admin-pw ~* &* +@all\n"  # the test's own view of the data
    (tmp_path / "users.acl").write_text(text)
    proc = RedisProcess(tmp_path / "redis", aof=False, extra=("--aclfile", str(tmp_path / "users.acl")))
    proc.auth = ("admin", "admin-pw")  # defined by the ACL file, not by command-line --user
    proc.start()
    yield proc
    proc.stop()


def url(proc: RedisProcess, role: str) -> str:
    return f"redis://bananas-{role}:{PASSWORDS[role]}@127.0.0.1:{proc.port}/0"


def test_worker_and_producer_users_run_jobs_and_the_viewer_reads_them(acl_redis, tmp_path):
    admin = acl_redis.client(decode_responses=True)
    server = ServerProcess(tmp_path / "server", url(acl_redis, "worker"),
                           env={"BANANAS_TEST_REDIS_URL": f"redis://admin:admin-pw@127.0.0.1:{acl_redis.port}/0"})
    server.start()
    try:
        with Client(url(acl_redis, "producer")) as producer:
            ids = [producer.submit_job("record", {"n": i}) for i in range(20)]
            wait_until(lambda: admin.llen("test:ran") >= 20, 20, "20 jobs to run", server.log)
            assert sorted(admin.lrange("test:ran", 0, -1)) == sorted(ids)
            assert producer.get_result(ids[0], timeout=5) == 1
        with Client(url(acl_redis, "viewer")) as viewer:
            assert viewer.get_job(ids[-1]).state == "succeeded"
            with pytest.raises(RedisAuthError, match="lacks a permission"):
                viewer.submit_job("record", {})
        assert "NOPERM" not in server.log()
    finally:
        server.stop()


@pytest.mark.parametrize("role", ["worker", "producer", "viewer"])
def test_no_role_can_touch_other_keys_or_dangerous_commands(acl_redis, role):
    conn = redis.Redis.from_url(url(acl_redis, role), decode_responses=True)
    refused = [
        lambda: conn.flushall(),
        lambda: conn.config_set("appendonly", "no"),
        lambda: conn.keys("*"),
        lambda: conn.get("app:session:42"),
        lambda: conn.set("bananas-not-ours", 1),
        lambda: conn.script_flush(),
        lambda: conn.acl_list(),
        lambda: conn.client_list(),
        lambda: conn.bgsave(),
    ]
    for attempt in refused:
        with pytest.raises(redis.exceptions.NoPermissionError):
            attempt()
    conn.close()
