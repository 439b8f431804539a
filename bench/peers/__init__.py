"""Peer benchmark harness: the same scenarios against other task queues (see README.md)."""
