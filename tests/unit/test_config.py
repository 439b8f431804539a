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


# -- the seed's spellings: levels, durations and booleans, in YAML and environment alike

@pytest.mark.parametrize(("text", "level"), [("info", "INFO"), ("Info", "INFO"), ("warn", "WARNING"),
                                             ("WARN", "WARNING"), ("warning", "WARNING"), ("debug", "DEBUG"),
                                             ("critical", "CRITICAL"), ("fatal", "CRITICAL")])
def test_level_names_read_in_any_case(tmp_path, text, level):
    path = tmp_path / "c.yaml"
    path.write_text(f"logging:\n  level: {text}\n  file:\n    level: {text}\n")
    from_yaml = load_config(path)
    from_env = load_config(None, {"LOG_LEVEL": text, "LOG_FILE_LEVEL": text, "LOG_ES_LEVEL": text})
    assert from_yaml.logging.level == from_yaml.logging.file.level == level
    assert from_env.logging.level == from_env.logging.file.level == from_env.logging.es.level == level


def test_unknown_level_names_the_variable_and_the_choices():
    with pytest.raises(ConfigError, match=r"LOG_LEVEL: 'loud' is not one of DEBUG, INFO.*warn"):
        load_config(None, {"LOG_LEVEL": "loud"})


@pytest.mark.parametrize(("text", "seconds"), [("10s", 10.0), ("100ms", 0.1), ("5m", 300.0), ("1h", 3600.0),
                                               ("2.5", 2.5), ("7", 7.0)])
def test_interval_settings_take_plain_seconds_or_a_unit(tmp_path, text, seconds):
    env = {"LOG_ES_FLUSH_INTERVAL": text, "LOG_FLUSH_INTERVAL": text, "LOG_FILE_FLUSH_INTERVAL": text,
           "LOG_ES_REQUEST_TIMEOUT": text, "LOG_ES_BREAKER_RESET": text}
    config = load_config(None, env)
    log = config.logging
    assert log.es.flush_interval == log.flush_interval == log.file.flush_interval == pytest.approx(seconds)
    assert log.es.request_timeout == log.es.breaker_reset == pytest.approx(seconds)
    path = tmp_path / "c.yaml"
    path.write_text(f"worker:\n  grace_seconds: {text}\n  scheduler_interval: {text}\nredis:\n"
                    f"  socket_timeout: {text}\n  block_timeout: {text}\n")
    config = load_config(path)
    assert config.worker.grace_seconds == config.worker.scheduler_interval == pytest.approx(seconds)
    assert config.redis.socket_timeout == config.redis.block_timeout == pytest.approx(seconds)


def test_every_interval_and_timeout_setting_reads_a_unit():
    from bananas.config import Config
    from bananas.settings import _duration, leaves

    timed = [key for key, _, tp in leaves(Config)
             if key.rsplit(".", 1)[-1].endswith(("_seconds", "_timeout", "_interval", "_grace", "_reset", "_days"))
             or key.endswith(("backoff_base", "backoff_max"))]
    untyped = [key for key, _, tp in leaves(Config) if key in timed and _duration(tp)[1] is None]
    assert timed and not untyped, f"settings without a duration type: {untyped}"


def test_whole_second_settings_refuse_fractions_and_read_days():
    assert load_config(None, {"BANANAS_RETENTION_SUCCEEDED_SECONDS": "24h"}).retention.succeeded_seconds == 86400
    assert load_config(None, {"BANANAS_RETENTION_DEAD_SECONDS": "7d"}).retention.dead_seconds == 604800
    with pytest.raises(ConfigError, match=r"BANANAS_RETENTION_DEAD_SECONDS.*whole number of seconds"):
        load_config(None, {"BANANAS_RETENTION_DEAD_SECONDS": "1500ms"})


def test_max_age_days_counts_plain_numbers_in_days():
    assert load_config(None, {"LOG_FILE_MAX_AGE_DAYS": "7"}).logging.file.max_age_days == 7.0
    assert load_config(None, {"LOG_FILE_MAX_AGE_DAYS": "12h"}).logging.file.max_age_days == 0.5


def test_bad_duration_names_the_key(tmp_path):
    with pytest.raises(ConfigError, match=r"LOG_ES_FLUSH_INTERVAL: cannot read '10 sec' as a duration"):
        load_config(None, {"LOG_ES_FLUSH_INTERVAL": "10 sec"})
    path = tmp_path / "c.yaml"
    path.write_text("worker:\n  lease_seconds: soon\n")
    with pytest.raises(ConfigError, match=r"worker\.lease_seconds: cannot read 'soon' as a duration"):
        load_config(path)
    with pytest.raises(ConfigError, match=r"worker\.lease_seconds.*below the minimum"):
        load_config(None, None, {"worker.lease_seconds": "500ms"})


@pytest.mark.parametrize(("text", "value"), [("true", True), ("True", True), ("1", True), ("yes", True),
                                             ("on", True), ("false", False), ("0", False), ("no", False),
                                             ("OFF", False)])
def test_booleans_read_every_usual_spelling(tmp_path, text, value):
    assert load_config(None, {"LOG_FILE_ENABLED": text}).logging.file.enabled is value
    path = tmp_path / "c.yaml"
    path.write_text(f"logging:\n  file:\n    compress: '{text}'\n  color: {text}\n")
    config = load_config(path)
    assert config.logging.file.compress is value and config.logging.color is value


def test_bad_boolean_names_the_key():
    with pytest.raises(ConfigError, match=r"LOG_FILE_ENABLED: cannot read .maybe.*true/false, 1/0, yes/no or on/off"):
        load_config(None, {"LOG_FILE_ENABLED": "maybe"})


def test_yaml_numbers_written_as_text_read_like_the_environment(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("worker:\n  concurrency: '12'\n  mode: THIN\n")
    config = load_config(path)
    assert config.worker.concurrency == 12 and config.worker.mode == "thin"


def test_a_setting_can_come_from_a_file_named_by_its_FILE_variable(tmp_path):
    from bananas.config import load_config

    secret = tmp_path / "redis-url"
    secret.write_text("redis://bananas-worker:s3cret@redis:6379/0\n")
    assert load_config(environ={"REDIS_URL_FILE": str(secret)}).redis.url == "redis://bananas-worker:s3cret@redis:6379/0"


def test_a_FILE_variable_that_cannot_be_read_or_clashes_is_a_clear_error(tmp_path):
    import pytest

    from bananas.config import load_config
    from bananas.errors import ConfigError

    with pytest.raises(ConfigError, match=r"REDIS_URL_FILE: cannot read .*missing"):
        load_config(environ={"REDIS_URL_FILE": str(tmp_path / "missing")})
    (tmp_path / "u").write_text("redis://x")
    with pytest.raises(ConfigError, match="REDIS_URL and REDIS_URL_FILE are both set"):
        load_config(environ={"REDIS_URL_FILE": str(tmp_path / "u"), "REDIS_URL": "redis://y"})
