"""Exit codes of the ``bananas`` command and the one-line error report.

=== ==============================================================================
0   success
1   any other error: a job failed, Redis is full, or a bug (the line says "internal
    error"; ``--debug`` shows the traceback)
2   bad usage or bad input (unknown option, payload that is not JSON, bad filter)
3   not found (no such job, schedule or dead job)
4   Redis unavailable (unreachable, timed out) or refusing us (wrong password, unknown
    user, an ACL user lacking a permission: ``RedisAuthError``)
5   refused: a bulk action not confirmed (declined, or no terminal and no ``--yes``)
6   bad configuration (config file or environment)
130 interrupted (Ctrl-C)
=== ==============================================================================
"""

from __future__ import annotations

import sys
import traceback
from typing import TextIO

from ..errors import (
    BananasError,
    ConfigError,
    HandlerNotFound,
    InvalidJob,
    JobNotFound,
    RedisAuthError,
    RedisUnavailable,
)
from ..redact import redact_text

OK, INTERNAL, USAGE, NOT_FOUND, UNAVAILABLE, REFUSED, CONFIG, INTERRUPTED = 0, 1, 2, 3, 4, 5, 6, 130


class Refused(BananasError):
    """A bulk action was not confirmed."""


class UsageError(BananasError):
    """A command line the command cannot act on (bad JSON, conflicting options)."""


def code_for(exc: BaseException) -> int:
    """The exit code of an error."""
    if isinstance(exc, KeyboardInterrupt):
        return INTERRUPTED
    if isinstance(exc, (UsageError, InvalidJob, HandlerNotFound)):
        return USAGE
    if isinstance(exc, JobNotFound):
        return NOT_FOUND
    if isinstance(exc, (RedisUnavailable, RedisAuthError)):
        return UNAVAILABLE
    if isinstance(exc, Refused):
        return REFUSED
    if isinstance(exc, ConfigError):
        return CONFIG
    return INTERNAL


def report(exc: BaseException, debug: bool, stream: TextIO | None = None) -> int:
    """Print one line about ``exc`` (plus the traceback with ``debug``); returns its exit code."""
    out = stream or sys.stderr
    code = code_for(exc)
    if debug:
        traceback.print_exception(exc, file=out)
    if isinstance(exc, KeyboardInterrupt):
        message = "interrupted"
    elif isinstance(exc, BananasError):
        message = _one_line(str(exc))
    else:
        message = f"internal error: {type(exc).__name__}: {_one_line(str(exc))}"
        if not debug:
            message += " (run with --debug for the traceback)"
    print(f"bananas: {message}", file=out)
    return code


def _one_line(text: str) -> str:
    return " ".join(redact_text(text).split()) or "(no message)"
