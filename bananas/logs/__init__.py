"""Logging for Bananas: record fields, console/file/Elasticsearch tiers, set up once by the server.

The server calls :func:`configure_logging` once per worker process and
:meth:`LoggingRuntime.shutdown` on exit; pools bind their ids with :func:`bind_worker` and
wrap each job in :func:`job_scope`; handlers log through :func:`job_logger`.
"""

from .config import EsLogConfig, FileLogConfig, LogConfig
from .context import bind_component, bind_worker, component_scope, job_logger, job_scope
from .es_setup import clean_elasticsearch, init_elasticsearch
from .setup import LoggingRuntime, configure_logging

__all__ = [
    # configuration
    "EsLogConfig", "FileLogConfig", "LogConfig",
    # start-up and shutdown
    "LoggingRuntime", "configure_logging",
    # context of a record
    "bind_component", "bind_worker", "component_scope", "job_logger", "job_scope",
    # Elasticsearch set-up (bananas es-init / es-clean)
    "clean_elasticsearch", "init_elasticsearch",
]
