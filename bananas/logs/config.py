"""Settings of the logging tiers (section ``logging`` of the config tree)."""

from __future__ import annotations

from dataclasses import dataclass

from ..settings import setting


@dataclass(frozen=True)
class LogConfig:
    level: str = setting(
        "INFO", "Lowest level written to the console.", env="LOG_LEVEL",
        choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
    )
    format: str = setting("text", "Console format: json or text.", env="LOG_FORMAT", choices=("json", "text"))
