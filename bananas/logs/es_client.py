"""Build the official Elasticsearch client from the logging settings."""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from .config import EsLogConfig


def make_client(config: EsLogConfig) -> Elasticsearch:
    """A client for the cluster in ``config``: gzip request bodies, no retries of its own.

    The shipper retries and trips its own breaker, so the client tries each node once (it
    still fails over to another address). ``cloud_id`` wins over ``addresses``; ``api_key``
    over ``username``/``password``.
    """
    kwargs: dict[str, Any] = {
        "http_compress": True,
        "request_timeout": config.request_timeout,
        "max_retries": 0 if config.cloud_id else max(0, len(config.addresses) - 1),
        "retry_on_timeout": False,
    }
    if config.cloud_id:
        kwargs["cloud_id"] = config.cloud_id
    else:
        kwargs["hosts"] = list(config.addresses)
    if config.api_key:
        kwargs["api_key"] = config.api_key
    elif config.username:
        kwargs["basic_auth"] = (config.username, config.password or "")
    if config.ca_certs:
        kwargs["ca_certs"] = config.ca_certs
    return Elasticsearch(**kwargs)
