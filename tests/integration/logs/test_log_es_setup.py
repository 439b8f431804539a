"""``init_elasticsearch``/``clean_elasticsearch`` through the real client, and an opt-in real cluster."""

from __future__ import annotations

import os
import time

import pytest
from elasticsearch import Elasticsearch

from bananas.config import load_config
from bananas.logs import clean_elasticsearch, configure_logging, init_elasticsearch, job_logger, job_scope
from bananas.logs.es_client import make_client


def test_init_creates_policy_and_data_stream_template_and_clean_removes_everything(fake_es):
    config = load_config(None, {"LOG_ES_ADDRESSES": fake_es.url, "LOG_ES_INDEX_PREFIX": "t-logs"}).logging.es
    init_elasticsearch(config)
    init_elasticsearch(config)  # idempotent
    assert fake_es.policies["t-logs-policy"]["policy"]["phases"]["delete"]["min_age"] == "90d"
    template = fake_es.templates["t-logs"]
    assert template["data_stream"] == {} and template["index_patterns"] == ["t-logs*"]
    client = Elasticsearch(fake_es.url)
    client.bulk(operations=[{"create": {"_index": "t-logs"}}, {"msg": "x"}])
    assert fake_es.data_streams == {"t-logs"}
    answer = client.bulk(operations=[{"index": {"_index": "t-logs"}}, {"msg": "y"}])
    assert answer["errors"] and answer["items"][0]["index"]["status"] == 400, "data streams take create only"
    clean_elasticsearch(config)
    clean_elasticsearch(config)  # nothing left: still fine
    assert fake_es.policies == {} and fake_es.templates == {} and fake_es.data_streams == set()


REAL_ES = os.environ.get("BANANAS_TEST_ES_URL")


@pytest.mark.skipif(not REAL_ES, reason="set BANANAS_TEST_ES_URL to run against a real Elasticsearch 8")
def test_records_reach_a_real_cluster(tmp_path):
    prefix = f"bananas-test-{os.getpid()}"
    env = {"LOG_ES_ENABLED": "true", "LOG_ES_ADDRESSES": REAL_ES or "", "LOG_ES_INDEX_PREFIX": prefix,
           "LOG_ES_FLUSH_INTERVAL": "0.2", "LOG_ES_REPLICAS": "0", "LOG_LEVEL": "ERROR"}
    for name in ("LOG_ES_USERNAME", "LOG_ES_PASSWORD", "LOG_ES_API_KEY", "LOG_ES_CA_CERTS"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    config = load_config(None, env).logging
    init_elasticsearch(config.es)
    try:
        with open(tmp_path / "out", "wb") as stream:
            runtime = configure_logging(config, worker_id="high-1", worker_type="high", stream=stream,
                                        use_gevent=False)
            with job_scope("real-1", job_name="probe", priority="high"):
                for i in range(20):
                    job_logger("probe").info("real %d", i, extra={"duration_ms": float(i)})
            runtime.shutdown(10)
        assert runtime.snapshot()["es"]["shipped"] == 20
        client = make_client(config.es)
        deadline = time.monotonic() + 10
        count = 0
        while time.monotonic() < deadline and count < 20:
            client.indices.refresh(index=prefix)
            count = client.count(index=prefix, query={"bool": {"filter": [
                {"term": {"log_source": "bananas_job"}}, {"term": {"job_id": "real-1"}}]}})["count"]
        assert count == 20
    finally:
        clean_elasticsearch(config.es)
