"""Priorities and lanes: part of the job model, so pure rules need not import the Redis layer."""

LANES = ("high", "normal", "low", "scheduled")
"""Ready lanes of a queue, in the order a pool that serves several of them takes them."""

PRIORITIES = ("high", "normal", "low")
"""The priorities a job may be submitted with (each is also a lane)."""
