"""Settings of the logging tiers (section ``logging`` of the config tree).

Three tiers: the console (always on), rotating files (``logging.file``) and Elasticsearch
(``logging.es``). Each setting keeps the environment variable name of the seed (``LOG_*``,
``LOG_FILE_*``, ``LOG_ES_*``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..settings import Days, Seconds, setting

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LEVEL_ALIASES = {"warn": "WARNING", "fatal": "CRITICAL"}
"""Level names match in any case; these spellings are accepted too."""


@dataclass(frozen=True)
class FileLogConfig:
    enabled: bool = setting(False, "Also write records to rotating files.", env="LOG_FILE_ENABLED")
    path: str = setting(
        "logs/bananas.log", "Path of the log file (its directory is created).", env="LOG_FILE_PATH"
    )
    level: str = setting(
        "INFO", "Lowest level written to the files.", env="LOG_FILE_LEVEL", choices=LEVELS, aliases=LEVEL_ALIASES
    )
    format: str = setting(
        "json", "File format: json or text.", env="LOG_FILE_FORMAT", choices=("json", "text")
    )
    max_size_mb: float = setting(
        100.0, "Rotate a file once it reaches this many megabytes.", env="LOG_FILE_MAX_SIZE_MB", minimum=0.01
    )
    max_backups: int = setting(
        10, "Rotated files kept per log file (older ones are deleted).", env="LOG_FILE_MAX_BACKUPS", minimum=1
    )
    max_age_days: Days = setting(
        30.0, "Rotated files older than this many days are deleted; 0 keeps them.",
        env="LOG_FILE_MAX_AGE_DAYS", minimum=0.0,
    )
    compress: bool = setting(False, "Gzip rotated files.", env="LOG_FILE_COMPRESS")
    per_component: bool = setting(
        False, "One file per component (bananas.worker.log, bananas.scheduler.log, ...) instead of one file.",
        env="LOG_FILE_PER_COMPONENT",
    )
    flush_interval: Seconds = setting(
        0.1, "Longest time in seconds a record waits in memory before it is written.",
        env="LOG_FILE_FLUSH_INTERVAL", minimum=0.001,
    )
    buffer_mb: float = setting(
        16.0, "Memory held for records not yet written; past it records are dropped and counted.",
        env="LOG_FILE_BUFFER_MB", minimum=0.01,
    )


@dataclass(frozen=True)
class EsLogConfig:
    enabled: bool = setting(False, "Ship records to Elasticsearch.", env="LOG_ES_ENABLED")
    # setting() turns a list default into a default_factory, so the default is never shared.
    addresses: list[str] = setting(
        ["http://127.0.0.1:9200"], "Elasticsearch URLs, comma separated (ignored with a cloud id).",
        env="LOG_ES_ADDRESSES",
    )
    username: str | None = setting(None, "User for basic authentication.", env="LOG_ES_USERNAME")
    password: str | None = setting(None, "Password for basic authentication.", env="LOG_ES_PASSWORD")
    cloud_id: str | None = setting(
        None, "Elastic Cloud deployment id (replaces addresses).", env="LOG_ES_CLOUD_ID"
    )
    api_key: str | None = setting(
        None, "API key (base64 id:key), preferred over a password.", env="LOG_ES_API_KEY"
    )
    ca_certs: str | None = setting(
        None, "CA bundle that signed the cluster's certificate.", env="LOG_ES_CA_CERTS"
    )
    index_prefix: str = setting(
        "bananas-logs", "Name of the data stream records go to; template and ILM policy are named after it.",
        env="LOG_ES_INDEX_PREFIX",
    )
    replicas: int = setting(
        1, "Replicas of each backing index (0 on a single-node cluster).", env="LOG_ES_REPLICAS", minimum=0
    )
    level: str = setting(
        "INFO", "Lowest level shipped to Elasticsearch.", env="LOG_ES_LEVEL", choices=LEVELS, aliases=LEVEL_ALIASES
    )
    flush_bytes: int = setting(
        5 * 1024 * 1024, "A bulk request is sent once this many bytes are waiting.", env="LOG_ES_FLUSH_BYTES",
        minimum=1024,
    )
    flush_interval: Seconds = setting(
        10.0, "Longest time in seconds a record waits before it is sent.", env="LOG_ES_FLUSH_INTERVAL",
        minimum=0.01,
    )
    num_workers: int = setting(
        2, "Shipper greenlets sending bulk requests.", env="LOG_ES_NUM_WORKERS", minimum=1
    )
    queue_size: int = setting(
        100000, "Records held in memory for shipping; past it records are dropped and counted.",
        env="LOG_ES_QUEUE_SIZE", minimum=1,
    )
    request_timeout: Seconds = setting(
        10.0, "Seconds one bulk request may take.", env="LOG_ES_REQUEST_TIMEOUT", minimum=0.1
    )
    max_item_retries: int = setting(
        3, "Attempts for documents Elasticsearch answers 429 for, before they go to the local tiers.",
        env="LOG_ES_MAX_ITEM_RETRIES", minimum=0,
    )
    breaker_failures: int = setting(
        3, "Consecutive failed bulk requests that open the circuit breaker.", env="LOG_ES_BREAKER_FAILURES",
        minimum=1,
    )
    breaker_reset: Seconds = setting(
        30.0, "Seconds the breaker stays open before one probe request.", env="LOG_ES_BREAKER_RESET",
        minimum=0.01,
    )


@dataclass(frozen=True)
class LogConfig:
    level: str = setting(
        "INFO", "Lowest level written to the console.", env="LOG_LEVEL", choices=LEVELS, aliases=LEVEL_ALIASES
    )
    format: str = setting("text", "Console format: json or text.", env="LOG_FORMAT", choices=("json", "text"))
    color: bool = setting(
        False, "Colour the level name in the text format (never inside messages).", env="LOG_COLOR"
    )
    caller_info: bool = setting(
        False, "Add the caller's module:line to every record (costs a stack walk per record, about 1 µs).",
        env="LOG_CALLER_INFO",
    )
    flush_bytes: int = setting(
        65536, "The console buffer is written once it holds this many bytes.", env="LOG_FLUSH_BYTES",
        minimum=1,
    )
    flush_interval: Seconds = setting(
        0.1, "Longest time in seconds a console record waits in memory.", env="LOG_FLUSH_INTERVAL",
        minimum=0.001,
    )
    buffer_mb: float = setting(
        16.0, "Memory held for console output not yet written; past it records are dropped and counted.",
        env="LOG_BUFFER_MB", minimum=0.01,
    )
    file: FileLogConfig = dataclasses.field(default_factory=FileLogConfig)
    es: EsLogConfig = dataclasses.field(default_factory=EsLogConfig)
