"""Priorities and lanes: part of the job model, so pure rules need not import the Redis layer."""

from typing import Literal

Priority = Literal["high", "normal", "low"]
"""The type of a priority argument: a type checker refuses ``priority="urgent"``."""

LANES = ("high", "normal", "low", "scheduled")
"""Ready lanes of a queue, in the order a pool that serves several of them takes them."""

PRIORITIES = ("high", "normal", "low")
"""The priorities a job may be submitted with (each is also a lane)."""
