"""Logging for Bananas: record fields, console/file/Elasticsearch tiers, set up once by the server."""
