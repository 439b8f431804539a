"""The configuration tree: frozen dataclasses, merged defaults < YAML < environment < CLI.

Every setting is declared once, with its default and help, by :func:`bananas.settings.setting`.
``bananas config`` prints the whole reference from these declarations.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .auth import parse_tokens, parse_users
from .errors import ConfigError
from .logs.config import LogConfig
from .settings import Seconds, WholeSeconds, build, check_value, env_name, leaves, parse_text, setting
from .signing import Signing

MODES = ("thin", "thin_plus", "default", "scaled")
EXECUTORS = ("gevent", "threads")
"""Where handlers run: greenlets on the process's hub, or real OS threads (server/jobs/threads.py)."""


@dataclass(frozen=True)
class RedisConfig:
    url: str | None = setting(
        None,
        "Redis URL (redis://, rediss:// for TLS, user:password@ for ACLs). Empty: start an "
        "embedded redis-server for this server.",
        env="REDIS_URL",
    )
    namespace: str = setting("bananas", "Prefix of every key; servers and clients must agree.")
    socket_timeout: Seconds = setting(5.0, "Seconds a non-blocking Redis command may take.", minimum=0.1)
    connect_timeout: Seconds = setting(5.0, "Seconds to wait for a TCP connection to Redis.", minimum=0.1)
    block_timeout: Seconds = setting(
        5.0,
        "Seconds an idle fetcher blocks in Redis before it looks again; the blocking pool's "
        "socket timeout is always this plus a margin.",
        minimum=0.1,
    )
    max_connections: int = setting(64, "Size of the pool for non-blocking commands per process.", minimum=2)
    durability: str = setting(
        "none", "Clients: none (a submit returns once the primary has the job) or replicated (it also "
        "waits for redis.durability_replicas replicas, Redis WAIT).", choices=("none", "replicated"))
    durability_replicas: int = setting(1, "Replicas a replicated submit waits for.", minimum=1)
    durability_timeout: Seconds = setting(
        1.0, "How long a replicated submit waits for its replicas before it raises NotReplicated.", minimum=0.001)


@dataclass(frozen=True)
class EmbeddedConfig:
    data_dir: str = setting(".bananas", "Directory of the embedded Redis (AOF and its log).")
    port: int = setting(0, "Port of the embedded Redis; 0 picks a free one.", minimum=0)


@dataclass(frozen=True)
class HandlersConfig:
    paths: list[str] = setting(["handlers"], "Directories whose *.py modules define handlers.")
    modules: list[str] = setting([], "Importable module names that define handlers.")


@dataclass(frozen=True)
class WorkerConfig:
    mode: str = setting("default", "thin, thin_plus, default or scaled.", env="WORKER_MODE", choices=MODES)
    queues: list[str] = setting(["default"], "Queues this server serves.", env="WORKER_QUEUES")
    concurrency: int = setting(50, "Greenlets of the one pool in thin mode.", env="WORKER_CONCURRENCY", minimum=1)
    priority_concurrency: int = setting(
        40, "Greenlets of the priority pool in thin_plus mode.", env="WORKER_PRIORITY_CONCURRENCY", minimum=1
    )
    high_concurrency: int = setting(20, "Greenlets of each high pool.", env="WORKER_HIGH_CONCURRENCY", minimum=1)
    normal_concurrency: int = setting(
        20, "Greenlets of each normal pool.", env="WORKER_NORMAL_CONCURRENCY", minimum=1
    )
    low_concurrency: int = setting(10, "Greenlets of each low pool.", env="WORKER_LOW_CONCURRENCY", minimum=1)
    scheduled_concurrency: int = setting(
        10, "Greenlets of each scheduled pool.", env="WORKER_SCHEDULED_CONCURRENCY", minimum=1
    )
    high_count: int = setting(1, "Processes for the high tier in scaled mode.", env="WORKER_HIGH_COUNT", minimum=0)
    normal_count: int = setting(
        1, "Processes for the normal tier in scaled mode.", env="WORKER_NORMAL_COUNT", minimum=0
    )
    low_count: int = setting(1, "Processes for the low tier in scaled mode.", env="WORKER_LOW_COUNT", minimum=0)
    scheduled_count: int = setting(
        1, "Processes for the scheduled tier in scaled mode.", env="WORKER_SCHEDULED_COUNT", minimum=0
    )
    executor: str = setting(
        "gevent", "Where every pool runs its handlers: gevent (greenlets on the process's hub) or "
        "threads (real OS threads, one per executor, for code that cannot yield to gevent: C "
        "drivers without green support, C extensions that release the GIL). A handler's "
        "@job(executor=...) overrides it.", env="WORKER_EXECUTOR", choices=EXECUTORS,
    )
    prefetch: int = setting(32, "Jobs a pool takes per round trip, and at most holds beyond its greenlets "
                            "(fewer when its jobs are long: about 50 ms of expected work).", minimum=1)
    lease_seconds: Seconds = setting(
        30.0, "A taken job returns to its lane if its worker stops renewing it for this long.", minimum=1.0
    )
    grace_seconds: Seconds = setting(30.0, "On SIGTERM, how long running jobs may take to finish.", minimum=0.0)
    max_recoveries: int = setting(
        3, "A job lost with its worker more often than this is dead-lettered as poison.", minimum=0
    )
    watchdog_grace: Seconds = setting(
        1.0,
        "Seconds a job may run past its timeout before the watchdog kills its worker process "
        "(for handlers that never yield to gevent); the master then replaces the process.",
        minimum=0.1,
    )
    block_warning_ms: int = setting(
        100,
        "A handler that holds the gevent hub longer than this (ms) is named in one WARNING record "
        "(job, blocked_ms, stack) and counted in bananas_hub_blocked_seconds_total; 0 turns it off.",
        env="WORKER_BLOCK_WARNING_MS", minimum=0,
    )
    scheduler_interval: Seconds = setting(
        60.0, "Longest sleep of the scheduler when nothing is due; it wakes at the next ETA or lease "
        "deadline, and earlier when a job is delayed or leased to before that.", minimum=0.05
    )
    cancel_grace_seconds: Seconds = setting(
        5.0, "After a running job is cancelled (ctx.cancelled set), how long it may still run "
        "before its handler is killed.", minimum=0.0
    )
    cron: bool = setting(True, "Run the periodic-job (cron) loop in this server's scheduler process.")
    green_drivers: bool = setting(
        True, "At start, make known blocking database drivers wait through gevent (psycopg2 "
        "when it is installed), so a query blocks only its own job, not the whole process."
    )
    cron_grace_seconds: Seconds = setting(
        60.0, "A periodic fire found this late is still submitted; an older one counts as missed "
        "(its schedule's missed policy decides).", minimum=1.0
    )


@dataclass(frozen=True)
class RetryConfig:
    max_retries: int = setting(3, "Retries after the first attempt, unless the handler says otherwise.", minimum=0)
    backoff_base: Seconds = setting(1.0, "Seconds before the first retry; doubles each attempt.", minimum=0.0)
    backoff_max: Seconds = setting(3600.0, "Longest delay between two attempts, in seconds.", minimum=0.0)
    jitter: bool = setting(True, "Spread each delay over [d/2, d] so retries do not stampede.")


@dataclass(frozen=True)
class RetentionConfig:
    succeeded_seconds: WholeSeconds = setting(86400, "How long a succeeded job and its result are kept.", minimum=1)
    dead_seconds: WholeSeconds = setting(
        604800, "How long a dead job is kept (the dead set is never trimmed).", minimum=1
    )
    keep_payload: bool = setting(
        False, "Keep a succeeded job's payload until it expires; by default it is dropped on success "
        "(state, name, queue, priority, attempts, timestamps and result stay)."
    )


@dataclass(frozen=True)
class LimitsConfig:
    max_payload_bytes: int = setting(1048576, "Largest accepted payload, as JSON bytes.", minimum=64)
    max_result_bytes: int = setting(
        1048576, "Largest result a handler may return, as JSON bytes; a larger one ends the job dead "
        "(reason invalid_result), as does a result that is not JSON.", minimum=64
    )
    max_depth: int = setting(64, "Deepest accepted nesting of lists and objects in a payload.", minimum=1)
    job_timeout: Seconds = setting(300.0, "Default handler timeout in seconds when the job names none.", minimum=0.01)


@dataclass(frozen=True)
class HttpConfig:
    host: str = setting("127.0.0.1", "Address of the master's /metrics and /health endpoints.")
    port: int = setting(9090, "Port of /metrics and /health; 0 turns the endpoint off.", minimum=0)
    report_timeout: Seconds = setting(
        5.0, "/health/live fails once a worker process has not reported for this many seconds.", minimum=1.0
    )
    stall_seconds: Seconds = setting(
        60.0, "/health/live fails once a pool with free executors took no job for this long while "
        "jobs waited in its lanes.", minimum=1.0
    )
    tokens: list[dict[str, Any]] = setting(
        [], "API tokens for /api/v1: entries {name, secret_hash, scopes} with secret_hash from "
        "`bananas hash-secret` and scopes among read, operate, submit. Empty: the API is off."
    )
    rate_limit: float = setting(
        10.0, "API requests per second each client (token, or address before it authenticates) may "
        "make on average; more are answered 429 with Retry-After.", minimum=0.1
    )
    rate_burst: int = setting(50, "API requests a client may make at once above the average rate.", minimum=1)
    max_body_bytes: int = setting(
        2097152, "Largest API request body; a larger one is refused with 413.", minimum=1024
    )


@dataclass(frozen=True, repr=False)
class SigningConfig:
    keys: dict[str, Any] = setting(
        {}, "Signed envelopes: key id → secret (at least 16 bytes), or {secret_file: path} or "
        "{secret_env: NAME}. Every key is accepted by workers; clients sign with sign_with. "
        "Environment: kid=secret,kid2=secret2. Empty: jobs are neither signed nor checked."
    )
    sign_with: str = setting("", "Key id that clients (and servers, for periodic and API jobs) sign new "
                                 "jobs with; empty: they sign nothing.")
    require: bool = setting(
        False, "Workers dead-letter unsigned jobs (reason unsigned) instead of running them; jobs "
        "with a bad signature or an unknown key id are refused whatever this says."
    )

    def __repr__(self) -> str:  # never the secrets
        return f"SigningConfig(keys={sorted(self.keys)!r}, sign_with={self.sign_with!r}, require={self.require})"


@dataclass(frozen=True)
class SecurityConfig:
    signing: SigningConfig = dataclasses.field(default_factory=SigningConfig)


@dataclass(frozen=True)
class DashboardConfig:
    users: list[dict[str, Any]] = setting(
        [], "Dashboard users for /dashboard/ on the HTTP listener: entries {name, secret_hash, role} with "
        "secret_hash from `bananas hash-secret` and role viewer (reads) or operator (also changes "
        "state). Empty: the dashboard is off."
    )
    session_seconds: WholeSeconds = setting(
        28800, "How long a dashboard login lasts; then the user signs in again.", minimum=60
    )
    login_attempts: int = setting(
        5, "Failed dashboard logins allowed per user name and per address within login_window; "
        "more are answered 429 with Retry-After.", minimum=1
    )
    login_window: WholeSeconds = setting(300, "The window of login_attempts, in seconds.", minimum=1)
    max_streams: int = setting(
        32, "Live-update streams (/dashboard/events) served at once; more are answered 503 and the "
        "browser retries.", minimum=1
    )


@dataclass(frozen=True)
class Config:
    redis: RedisConfig = dataclasses.field(default_factory=RedisConfig)
    embedded: EmbeddedConfig = dataclasses.field(default_factory=EmbeddedConfig)
    handlers: HandlersConfig = dataclasses.field(default_factory=HandlersConfig)
    worker: WorkerConfig = dataclasses.field(default_factory=WorkerConfig)
    retry: RetryConfig = dataclasses.field(default_factory=RetryConfig)
    retention: RetentionConfig = dataclasses.field(default_factory=RetentionConfig)
    limits: LimitsConfig = dataclasses.field(default_factory=LimitsConfig)
    logging: LogConfig = dataclasses.field(default_factory=LogConfig)
    http: HttpConfig = dataclasses.field(default_factory=HttpConfig)
    security: SecurityConfig = dataclasses.field(default_factory=SecurityConfig)
    dashboard: DashboardConfig = dataclasses.field(default_factory=DashboardConfig)
    routes: dict[str, str] = setting(
        {}, "Job name or glob pattern → queue, first match in file order (e.g. image.*: gpu). "
        "A per-call queue= overrides it."
    )
    cron: list[dict[str, Any]] = setting(
        [], "Periodic jobs: entries with name, job, cron or every, and optionally tz, payload, "
        "queue, priority, missed (skip or run_once)."
    )


def load_config(
    path: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, str] | None = None,
    *,
    tree: Mapping[str, Any] | None = None,
) -> Config:
    """Read the YAML file at ``path``, then apply ``environ`` and ``overrides`` (dotted keys).

    ``tree`` stands in for the YAML file: the same nested mapping, already parsed (Django's
    ``settings.BANANAS``, Flask's ``app.config["BANANAS"]``), checked by the same rules.
    Raises :class:`ConfigError` naming the key for unknown settings and bad values.
    """
    if path is not None and tree is not None:
        raise ConfigError("give either a config file or a settings tree, not both")
    if path is not None:
        tree = _read_yaml(Path(path))
    tree = _copy_tree(tree or {}, "config")
    known = leaves(Config)
    by_path = {key: (field, tp) for key, field, tp in known}
    for key, field, tp in known:
        name = env_name(key, field)
        text = _from_environment(environ or {}, name)
        if text is not None:
            _put(tree, key, check_value(name, parse_text(name, text, tp), tp, field))
    for key, text in (overrides or {}).items():
        if key not in by_path:
            raise ConfigError(f"unknown setting {key}")
        field, tp = by_path[key]
        _put(tree, key, check_value(key, parse_text(key, text, tp), tp, field))
    config = build(Config, tree)
    validate(config)
    return _with_secrets(config, environ or {})


def _with_secrets(config: Config, environ: Mapping[str, str]) -> Config:
    """The config with each signing key's secret read (from its file or variable) and checked."""
    section = config.security.signing
    signing = Signing.from_config(section, environ)
    if signing.require and signing.sign_with is None:
        raise ConfigError("security.signing.sign_with: required with security.signing.require (the "
                          "servers sign the periodic jobs they submit, or they would be refused)")
    resolved = dataclasses.replace(section, keys=dict(signing.keys))
    return dataclasses.replace(config, security=SecurityConfig(resolved))


def _from_environment(environ: Mapping[str, str], name: str) -> str | None:
    """``environ[name]``, or the contents of the file named by ``<name>_FILE`` (Docker and
    Kubernetes secrets mounted as files; one trailing newline is dropped)."""
    path = environ.get(f"{name}_FILE")
    if path is None:
        return environ.get(name)
    if name in environ:
        raise ConfigError(f"{name} and {name}_FILE are both set: keep one")
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"{name}_FILE: cannot read {path}: {exc.strerror}") from None
    return text[:-1] if text.endswith("\n") else text


def validate(config: Config) -> None:
    """Checks that span several settings."""
    if not config.worker.queues:
        raise ConfigError("worker.queues: name at least one queue")
    if config.worker.mode == "scaled":
        w = config.worker
        if w.high_count + w.normal_count + w.low_count + w.scheduled_count == 0:
            raise ConfigError("worker.*_count: scaled mode needs at least one process")
    parse_tokens(config.http.tokens)
    parse_users(config.dashboard.users)


def _copy_tree(node: Any, where: str) -> dict[str, Any]:
    """A private copy of the mappings of a settings tree (``_put`` writes into it)."""
    if not isinstance(node, Mapping):
        raise ConfigError(f"{where}: expected a mapping, got {type(node).__name__}")
    out: dict[str, Any] = {}
    for key, value in node.items():
        if not isinstance(key, str):
            raise ConfigError(f"{where}: setting names must be strings, got {key!r}")
        out[key] = _copy_tree(value, key) if isinstance(value, Mapping) and key not in _FREE_MAPPINGS else value
    return out


_FREE_MAPPINGS = frozenset({"routes", "payload", "keys"})
"""Mappings whose keys are data, not setting names (copied as they are)."""


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: the top level must be a mapping")
    return data


def _put(tree: dict[str, Any], dotted: str, value: Any) -> None:
    node = tree
    *parents, last = dotted.split(".")
    for part in parents:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{part}: expected a mapping")
        node = child
    node[last] = value


def reference() -> str:
    """Every setting with its environment variable, default and help, as Markdown rows."""
    rows = ["| key | environment | default | meaning |", "|---|---|---|---|"]
    for key, field, _ in leaves(Config):
        default = field.default_factory() if field.default is dataclasses.MISSING else field.default  # type: ignore[operator]
        rows.append(f"| `{key}` | `{env_name(key, field)}` | `{default!r}` | {field.metadata['help']} |")
    return "\n".join(rows)
