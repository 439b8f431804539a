"""Chaos harness: a breakable TCP proxy and an execution ledger outside Redis."""
