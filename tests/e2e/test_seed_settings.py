"""The server starts from the environment exactly as the seed's examples write it."""

from __future__ import annotations

from bananas import Client
from tests.support.fake_es import FakeElasticsearch

# Written as the seed's README and examples write them: lower-case levels, `warn`,
# durations with units, booleans as true/yes/on/1.
SEED_ENVIRONMENT = {
    "WORKER_MODE": "scaled",
    "WORKER_CONCURRENCY": "50",
    "WORKER_PRIORITY_CONCURRENCY": "40",
    "WORKER_SCHEDULED_CONCURRENCY": "10",
    "WORKER_HIGH_CONCURRENCY": "20",
    "WORKER_NORMAL_CONCURRENCY": "20",
    "WORKER_LOW_CONCURRENCY": "10",
    "WORKER_HIGH_COUNT": "1",
    "WORKER_NORMAL_COUNT": "1",
    "WORKER_LOW_COUNT": "1",
    "WORKER_SCHEDULED_COUNT": "1",
    "LOG_LEVEL": "info",
    "LOG_FORMAT": "json",
    "LOG_COLOR": "false",
    "LOG_CALLER_INFO": "true",
    "LOG_FLUSH_INTERVAL": "100ms",
    "LOG_FILE_ENABLED": "true",
    "LOG_FILE_LEVEL": "debug",
    "LOG_FILE_FORMAT": "json",
    "LOG_FILE_MAX_SIZE_MB": "100",
    "LOG_FILE_MAX_BACKUPS": "10",
    "LOG_FILE_MAX_AGE_DAYS": "30",
    "LOG_FILE_COMPRESS": "yes",
    "LOG_FILE_PER_COMPONENT": "off",
    "LOG_FILE_FLUSH_INTERVAL": "1s",
    "LOG_ES_ENABLED": "on",
    "LOG_ES_USERNAME": "elastic",
    "LOG_ES_PASSWORD": "changeme",
    "LOG_ES_INDEX_PREFIX": "bananas-logs",
    "LOG_ES_REPLICAS": "0",
    "LOG_ES_LEVEL": "warn",
    "LOG_ES_FLUSH_BYTES": "5242880",
    "LOG_ES_FLUSH_INTERVAL": "10s",
    "LOG_ES_NUM_WORKERS": "2",
    "LOG_ES_REQUEST_TIMEOUT": "10s",
    "LOG_ES_BREAKER_RESET": "30s",
}


def test_server_runs_a_job_with_every_seed_environment_example(server_factory, redis_url, tmp_path):
    es = FakeElasticsearch().start()
    try:
        log_file = tmp_path / "logs" / "bananas.log"
        env = {**SEED_ENVIRONMENT, "REDIS_URL": redis_url, "LOG_ES_ADDRESSES": es.url,
               "LOG_FILE_PATH": str(log_file)}
        server = server_factory(env=env, expect_processes=4)
        assert sorted(w["process"] for w in server.workers()) == ["high-1", "low-1", "normal-1", "scheduled-1"]
        with Client(redis_url) as client:
            job_id = client.submit_job("add", {"a": 2, "b": 3})
            assert client.get_result(job_id, timeout=15) == {"sum": 5}
        assert server.stop() == 0
        assert log_file.exists() and '"level":"INFO"' in log_file.read_text().replace(" ", "")
        assert "changeme" not in server.log()
    finally:
        es.stop()
