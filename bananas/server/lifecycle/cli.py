"""The ``bananas-server`` command line: config, checks, embedded Redis, then the master."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import redis

from ...config import Config, load_config
from ...connection import ConnectionSettings, connect, refusal
from ...cron.rules import Schedule
from ...errors import BananasError, ConfigError
from ...integration import Integration
from ...logs import LoggingRuntime, bind_component, configure_logging
from ...queue.broker import Broker, Retention
from ...queue.depths import QueueSample
from ...redact import redact_text, redact_url
from ...registry import Registry, load_registry
from ...routing import parse_routes
from ..jobs.runner import RunPolicy
from ..observe.faces import mounts
from ..observe.http import serve_http
from ..observe.monitor import Monitor
from ..timed.cron_loop import load_schedules
from ..timed.recovery import ChildGuard, Recovery
from .boot import SHUTDOWN_SECONDS, Boot, run_worker
from .embedded import EmbeddedRedis
from .green import make_drivers_green
from .master import Master
from .plan import ProcessSpec, plan

log = logging.getLogger("bananas.server")
URL_FILE = "redis.url"
MONITOR_TIMEOUT = 1.0
CONFIG_ERROR, REFUSED = 2, 3
"""Exit codes: a bad setting or handler; Redis refused the credentials or a permission."""
PROBE_OWNER = "start-up-probe"


def parse_args(argv: list[str], prog: str = "bananas-server") -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description="Run Bananas workers.")
    parser.add_argument("-c", "--config", help="YAML config file")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a setting, e.g. --set worker.mode=thin (repeatable)")
    parser.add_argument("--mode", help="worker mode (thin, thin_plus, default, scaled)")
    parser.add_argument("--redis-url", help="Redis URL; none starts an embedded Redis")
    parser.add_argument("--check", action="store_true", help="load config and handlers, then exit")
    return parser.parse_args(argv)


def overrides(args: argparse.Namespace) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE")
        out[key.strip()] = value
    if args.mode:
        out["worker.mode"] = args.mode
    if args.redis_url:
        out["redis.url"] = args.redis_url
    return out


def main(argv: list[str], integration: Integration | None = None, prog: str = "bananas-server") -> int:
    """Entry point; returns the exit code: 2 for a bad setting or handler, 3 when Redis refuses
    the credentials or the user lacks a permission Bananas needs.

    ``integration`` (Django, Flask) supplies the settings tree in place of ``-c``, handler
    modules it discovered and the per-job wrapping of handlers.
    """
    from gevent import monkey

    if not monkey.is_module_patched("socket"):
        print(f"{prog}: gevent has not patched socket; start it with the bananas-server "
              "command (it patches before importing anything else)", file=sys.stderr)
        return CONFIG_ERROR
    try:
        args = parse_args(argv, prog)
        tree = integration.tree if integration is not None else None
        if args.config and integration is not None and tree is not None:
            raise ConfigError(f"-c/--config: {integration.name} settings are read from its own "
                              "configuration (BANANAS); use --set or the environment to override")
        config = load_config(args.config, os.environ, overrides(args), tree=tree)
    except BananasError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return CONFIG_ERROR
    logs = configure_logging(config.logging, worker_id=None, worker_type=None, component="api")
    bind_component("api")
    try:
        return start(args, config, logs, integration)
    finally:
        logs.shutdown(SHUTDOWN_SECONDS)


def start(args: argparse.Namespace, config: Config, logs: LoggingRuntime,
          integration: Integration | None = None) -> int:
    """Load handlers, routes and schedules, then serve (or stop there with ``--check``)."""
    if config.worker.green_drivers:
        for done in make_drivers_green():
            log.info("green drivers: %s", done)
    try:
        registry = load_registry(config.handlers.paths, config.handlers.modules)
        if integration is not None:
            registry = integration.registry(registry)
        if not len(registry):
            raise ConfigError("no handlers found in handlers.paths / handlers.modules")
        parse_routes(config.routes)
        schedules = load_schedules(config.cron, registry)
    except BananasError as exc:
        print(f"bananas-server: {exc}", file=sys.stderr)
        return CONFIG_ERROR
    log.info("handlers: %s", ", ".join(registry.names()))
    if schedules:
        log.info("schedules: %s", ", ".join(s.name for s in schedules))
    if args.check:
        return 0
    return serve(config, registry, schedules, logs)


def serve(config: Config, registry: Registry, schedules: tuple[Schedule, ...], logs: LoggingRuntime) -> int:
    embedded = None
    url = config.redis.url
    if not url:
        embedded = EmbeddedRedis(config.embedded.data_dir, config.embedded.port)
        url = embedded.start()
        (Path(config.embedded.data_dir) / URL_FILE).write_text(url + "\n")
        log.info("no redis.url configured: using an embedded Redis; clients connect with "
                 "REDIS_URL=%s", redact_url(url))
    try:
        refused = check_redis(config, url)
        if refused is not None:
            log.critical("cannot start: %s", refused)
            print(f"bananas-server: {refused}", file=sys.stderr)
            return REFUSED
        return supervise(config, registry, schedules, logs, url)
    finally:
        if embedded is not None:
            embedded.stop()


def supervise(config: Config, registry: Registry, schedules: tuple[Schedule, ...], logs: LoggingRuntime,
              url: str) -> int:
    """Run the master with its monitor and HTTP endpoints until it is told to stop."""
    specs = plan(config.worker)
    # Short timeouts: a scrape or a health check must answer even while Redis hangs.
    client = connect(ConnectionSettings(url, MONITOR_TIMEOUT, MONITOR_TIMEOUT, 4))
    monitor = Monitor(config, specs, client, len(registry), logs)
    guard = make_guard(config, url)
    for spec in specs:
        guard.table(spec)  # mapped before the fork, so the master can read what a worker ran
    boot = Boot(config, registry, url, schedules, monitor, logs, guard)

    def target(spec: ProcessSpec) -> int:
        return run_worker(boot, spec)

    master = Master(specs, target, config.worker.grace_seconds, guard, monitor)
    monitor.restarts = lambda: master.restarts
    monitor.deaths = master.recent_deaths
    server = serve_http(monitor, config.http.host, config.http.port, mounts(config, url))
    monitor.start()
    log.info("mode %s: %d worker process(es), queues %s", config.worker.mode, len(specs),
             ", ".join(config.worker.queues))
    try:
        return master.run()
    finally:
        if server is not None:
            server.stop(timeout=1)
        monitor.stop()
        client.close()


def make_guard(config: Config, url: str) -> ChildGuard:
    """The master's recovery of dead workers' jobs, with its own small Redis pool."""
    r, w = config.redis, config.worker
    client = connect(ConnectionSettings(url, r.socket_timeout, r.connect_timeout, 4))
    retention = Retention(config.retention.succeeded_seconds, config.retention.dead_seconds,
                          config.retention.keep_payload)
    broker = Broker(client, r.namespace, retention)
    recovery = Recovery(broker, list(w.queues), RunPolicy.from_config(config), w.max_recoveries,
                        give_up_after=w.lease_seconds)
    return ChildGuard(recovery, backstop_seconds=3 * w.watchdog_grace + 1.0)


def check_redis(config: Config, url: str) -> str | None:
    """Log how Redis is set up and warn where it can lose jobs; returns why the server must not
    start (Redis refused the credentials or the user lacks a permission), else None.

    An unreachable Redis is not fatal (workers retry until it is back); refused credentials
    are, since no retry can succeed: every worker would crash at start, again and again.
    """
    r = config.redis
    client = connect(ConnectionSettings(url, r.socket_timeout, r.connect_timeout, 2))
    try:
        probe_permissions(client, r.namespace, list(config.worker.queues))
        info = client.info()
        policy = client.config_get("maxmemory-policy").get("maxmemory-policy")
        aof = client.config_get("appendonly").get("appendonly")
        save = client.config_get("save").get("save")
    except redis.RedisError as exc:
        why = refusal(exc)
        if why is not None:
            return f"{why} (Redis at {redact_url(url)})"
        if isinstance(exc, redis.ResponseError):  # CONFIG may be renamed or forbidden by an ACL
            log.info("Redis %s reachable; cannot read its config (%s)", redact_url(url), redact_text(str(exc)))
        else:
            log.error("Redis at %s is unreachable (%s); workers will keep retrying", redact_url(url),
                      redact_text(str(exc)))
        return None
    finally:
        client.close()
    log.info("Redis %s at %s", info.get("redis_version"), redact_url(url))
    if policy != "noeviction":
        log.warning("Redis maxmemory-policy is %s: under memory pressure Redis may evict job "
                    "data. Use noeviction (submits then fail loudly instead)", policy)
    if aof != "yes" and not save:
        log.warning("Redis persistence is off (no AOF, no RDB): a Redis restart loses every job")
    return None


def probe_permissions(client: redis.Redis, namespace: str, queues: list[str]) -> None:
    """Do, once, what every worker needs and changes nothing: authenticate, load the scripts,
    read each queue's counts, write (a removal of an entry nobody has) to the status hash.

    Raises the redis-py error of the first refusal (``WRONGPASS``, ``NOPERM``, ...).
    """
    client.ping()
    broker = Broker(client, namespace)
    broker.load_scripts()
    for queue in queues:
        QueueSample.ask(client, broker.keys(queue))
    broker.remove_status(PROBE_OWNER)
