"""Handlers for the observability tests: they log through ctx.logger."""

from bananas import job


@job("log_lines")
def log_lines(payload, ctx):
    """Logs one INFO line with an extra field, then succeeds."""
    ctx.logger.info("hello from the handler", extra={"order": payload.get("order", 0)})
    return None
