"""Create (and remove) what the Elasticsearch tier writes into: ILM policy and index template.

Records go to one data stream named ``index_prefix`` (default ``bananas-logs``). Its index
template maps every record field and attaches the ILM policy ``<prefix>-policy``: roll the
write index over at 50 GB per primary shard or after one day, warm after 7 days, cold after
30, delete after 90 (ages count from rollover). ``bananas es-init`` calls
:func:`init_elasticsearch`; ``bananas es-clean`` calls :func:`clean_elasticsearch`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import EsLogConfig

if TYPE_CHECKING:  # the client (ssl, urllib3) loads only when a function below runs
    from elasticsearch import Elasticsearch

_KEYWORDS = (
    "level", "logger", "component", "worker_id", "worker_type", "log_source", "job_id", "job_name",
    "priority", "redis_operation", "status", "queue",
)


def policy_name(config: EsLogConfig) -> str:
    """Name of the ILM policy for ``config``'s data stream."""
    return f"{config.index_prefix}-policy"


def ilm_policy() -> dict[str, Any]:
    """Hot (rollover 50 GB / 1 day) → warm 7 d → cold 30 d → delete 90 d."""
    return {
        "phases": {
            "hot": {
                "min_age": "0ms",
                "actions": {
                    "rollover": {"max_primary_shard_size": "50gb", "max_age": "1d"},
                    "set_priority": {"priority": 100},
                },
            },
            "warm": {
                "min_age": "7d",
                "actions": {"set_priority": {"priority": 50}, "forcemerge": {"max_num_segments": 1}},
            },
            "cold": {"min_age": "30d", "actions": {"set_priority": {"priority": 0}}},
            "delete": {"min_age": "90d", "actions": {"delete": {}}},
        }
    }


def mappings() -> dict[str, Any]:
    """Field types: keywords for ids and names, date for time, text for msg, float for durations."""
    properties: dict[str, Any] = {name: {"type": "keyword"} for name in _KEYWORDS}
    properties.update({
        "@timestamp": {"type": "date"},
        "time": {"type": "date"},
        "msg": {"type": "text"},
        "error": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 1024}}},
        "traceback": {"type": "text"},
        "duration_ms": {"type": "float"},
        "attempt": {"type": "integer"},
    })
    return {
        # Other extra= fields: strings become keywords rather than text + keyword pairs.
        "dynamic_templates": [
            {"strings_as_keywords": {"match_mapping_type": "string",
                                     "mapping": {"type": "keyword", "ignore_above": 1024}}},
        ],
        "properties": properties,
    }


def index_template(config: EsLogConfig) -> dict[str, Any]:
    """The body of the composable index template that makes ``index_prefix`` a data stream."""
    return {
        "index_patterns": [f"{config.index_prefix}*"],
        "data_stream": {},
        # Above the built-in logs-*-* template (priority 100) should a prefix ever match it.
        "priority": 200,
        "template": {
            "settings": {"index.lifecycle.name": policy_name(config),
                         "index.number_of_replicas": config.replicas},
            "mappings": mappings(),
        },
        "_meta": {"managed_by": "bananas"},
    }


def init_elasticsearch(config: EsLogConfig, client: Elasticsearch | None = None) -> None:
    """Create or update the ILM policy and the index template (idempotent).

    Raises the client's ``ApiError``/``TransportError`` when the cluster refuses or is down.
    """
    from .es_client import make_client

    es = client or make_client(config)
    es.ilm.put_lifecycle(name=policy_name(config), policy=ilm_policy())
    body = index_template(config)
    es.indices.put_index_template(
        name=config.index_prefix, index_patterns=body["index_patterns"], data_stream=body["data_stream"],
        priority=body["priority"], template=body["template"], meta=body["_meta"],
    )


def clean_elasticsearch(config: EsLogConfig, client: Elasticsearch | None = None) -> None:
    """Delete the data stream (all its records), the index template and the ILM policy.

    Missing pieces are skipped; other failures raise the client's errors.
    """
    from .es_client import make_client

    es = (client or make_client(config)).options(ignore_status=404)
    es.indices.delete_data_stream(name=config.index_prefix)
    es.indices.delete_index_template(name=config.index_prefix)
    es.ilm.delete_lifecycle(name=policy_name(config))
