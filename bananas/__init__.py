"""Bananas: a distributed task queue for synchronous Python, on Redis and gevent.

``import bananas`` has no side effects: no environment reads, no connections, no patching.
"""
