import pytest

from bananas.config import load_config, reference
from bananas.errors import ConfigError


def test_defaults_load_without_a_file():
    config = load_config()
    assert config.worker.mode == "default"
    assert config.redis.url is None


def test_yaml_then_environment_then_cli(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("worker:\n  mode: thin\n  concurrency: 7\nredis:\n  url: redis://a\n")
    config = load_config(path, {"WORKER_CONCURRENCY": "9", "REDIS_URL": "redis://b"}, {"redis.url": "redis://c"})
    assert config.worker.mode == "thin"
    assert config.worker.concurrency == 9
    assert config.redis.url == "redis://c"


def test_unknown_yaml_key_names_the_key(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("worker:\n  modee: thin\n")
    with pytest.raises(ConfigError, match=r"worker\.modee"):
        load_config(path)


def test_bad_environment_value_names_the_variable():
    with pytest.raises(ConfigError, match="WORKER_MODE"):
        load_config(None, {"WORKER_MODE": "fat"})
    with pytest.raises(ConfigError, match="WORKER_HIGH_COUNT"):
        load_config(None, {"WORKER_HIGH_COUNT": "many"})


def test_bad_yaml_type_names_the_key(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("retry:\n  max_retries: lots\n")
    with pytest.raises(ConfigError, match=r"retry\.max_retries"):
        load_config(path)


def test_value_below_minimum_is_refused():
    with pytest.raises(ConfigError, match=r"worker\.prefetch"):
        load_config(None, None, {"worker.prefetch": "0"})


def test_unknown_cli_override_is_refused():
    with pytest.raises(ConfigError, match=r"worker\.nope"):
        load_config(None, None, {"worker.nope": "1"})


def test_lists_parse_from_comma_separated_text():
    config = load_config(None, {"WORKER_QUEUES": "default, email"})
    assert config.worker.queues == ["default", "email"]


def test_reference_lists_every_seed_variable():
    text = reference()
    for name in ["REDIS_URL", "WORKER_MODE", "WORKER_CONCURRENCY", "WORKER_PRIORITY_CONCURRENCY",
                 "WORKER_SCHEDULED_CONCURRENCY", "WORKER_HIGH_CONCURRENCY", "WORKER_LOW_COUNT", "LOG_LEVEL"]:
        assert f"`{name}`" in text


def test_broker_retention_defaults_are_the_configs():
    from bananas.config import RetentionConfig
    from bananas.queue.broker import Retention

    assert Retention() == Retention(RetentionConfig().succeeded_seconds, RetentionConfig().dead_seconds)
