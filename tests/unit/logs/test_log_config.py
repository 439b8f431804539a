import pytest

from bananas.config import load_config, reference
from bananas.errors import ConfigError
from bananas.logs import es_setup


def test_every_logging_variable_reaches_its_setting():
    env = {
        "LOG_LEVEL": "DEBUG", "LOG_FORMAT": "json", "LOG_COLOR": "yes",
        "LOG_FILE_ENABLED": "true", "LOG_FILE_PATH": "/var/log/b.log", "LOG_FILE_MAX_SIZE_MB": "5",
        "LOG_FILE_MAX_BACKUPS": "4", "LOG_FILE_MAX_AGE_DAYS": "7", "LOG_FILE_COMPRESS": "1",
        "LOG_FILE_LEVEL": "WARNING", "LOG_FILE_PER_COMPONENT": "true",
        "LOG_ES_ENABLED": "true", "LOG_ES_ADDRESSES": "http://a:9200, http://b:9200",
        "LOG_ES_USERNAME": "u", "LOG_ES_PASSWORD": "p", "LOG_ES_CLOUD_ID": "c", "LOG_ES_API_KEY": "k",
        "LOG_ES_INDEX_PREFIX": "app-logs", "LOG_ES_LEVEL": "ERROR", "LOG_ES_FLUSH_BYTES": "2048",
        "LOG_ES_FLUSH_INTERVAL": "2.5", "LOG_ES_NUM_WORKERS": "3",
    }
    log = load_config(None, env).logging
    assert (log.level, log.format, log.color) == ("DEBUG", "json", True)
    f = log.file
    assert (f.enabled, f.path, f.max_size_mb, f.max_backups, f.max_age_days, f.compress, f.level,
            f.per_component) == (True, "/var/log/b.log", 5.0, 4, 7.0, True, "WARNING", True)
    es = log.es
    assert es.addresses == ["http://a:9200", "http://b:9200"]
    assert (es.enabled, es.username, es.password, es.cloud_id, es.api_key, es.index_prefix, es.level,
            es.flush_bytes, es.flush_interval, es.num_workers) == (
        True, "u", "p", "c", "k", "app-logs", "ERROR", 2048, 2.5, 3)


def test_defaults_match_the_issue():
    log = load_config().logging
    assert log.flush_bytes == 65536 and log.flush_interval == 0.1
    assert log.es.flush_bytes == 5 * 1024 * 1024 and log.es.flush_interval == 10.0
    assert not log.file.enabled and not log.es.enabled


def test_bad_logging_values_name_the_variable():
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        load_config(None, {"LOG_FORMAT": "xml"})
    with pytest.raises(ConfigError, match="LOG_ES_NUM_WORKERS"):
        load_config(None, {"LOG_ES_NUM_WORKERS": "0"})


def test_reference_lists_the_logging_variables():
    text = reference()
    for name in ["LOG_FILE_MAX_AGE_DAYS", "LOG_ES_CLOUD_ID", "LOG_ES_FLUSH_BYTES", "LOG_COLOR"]:
        assert f"`{name}`" in text


def test_ilm_policy_rolls_over_and_ages_out_as_specified():
    phases = es_setup.ilm_policy()["phases"]
    assert phases["hot"]["actions"]["rollover"] == {"max_primary_shard_size": "50gb", "max_age": "1d"}
    assert [phases[p]["min_age"] for p in ("warm", "cold", "delete")] == ["7d", "30d", "90d"]
    assert "delete" in phases["delete"]["actions"]


def test_template_maps_ids_as_keywords_and_durations_as_numbers():
    config = load_config(None, {"LOG_ES_INDEX_PREFIX": "x-logs"}).logging.es
    body = es_setup.index_template(config)
    props = body["template"]["mappings"]["properties"]
    assert body["index_patterns"] == ["x-logs*"] and body["data_stream"] == {}
    assert body["template"]["settings"]["index.lifecycle.name"] == "x-logs-policy"
    for name in ("job_id", "worker_id", "component", "level", "log_source", "job_name", "priority"):
        assert props[name] == {"type": "keyword"}
    assert props["time"]["type"] == "date" and props["msg"]["type"] == "text"
    assert props["duration_ms"]["type"] == "float"


def test_importing_the_logging_package_loads_no_network_or_lock_library():
    # ssl/urllib3 must be importable after gevent patches them; the tiers load them when enabled.
    import subprocess
    import sys

    code = ("import sys, bananas.config, bananas.logs; "
            "print(sorted(m for m in ('ssl', 'urllib3', 'elasticsearch', 'concurrent_log_handler', 'gevent') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
