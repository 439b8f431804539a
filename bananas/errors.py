"""The one exception tree of Bananas, plus the control-flow signals handlers raise.

``BananasError`` (an ``Exception``) is the root of every error Bananas raises on purpose:
callers catch it. ``Retry`` and ``Reject`` are signals a handler raises to its runner.
``JobCancelled`` is a signal the server raises *into* a handler whose job was cancelled; it
derives from ``BaseException`` (like ``KeyboardInterrupt``, and like the handler timeout), so
a handler's ``except Exception:`` cannot swallow it. A client waiting for the result of a
cancelled job gets ``JobWasCancelled``, a ``BananasError``, instead.
"""

from __future__ import annotations


class BananasError(Exception):
    """Base of every error Bananas raises on purpose."""


class ConfigError(BananasError):
    """A setting is unknown or has a bad value; the message names the key."""


class RedisUnavailable(BananasError):
    """Redis could not be reached or answered with a connection-level failure."""


class RedisAuthError(BananasError):
    """Redis refused who we are: a wrong password or unknown user (``WRONGPASS``, ``NOAUTH``),
    or an ACL user lacking a command or key the call needs (``NOPERM``).

    Not transient, so it is not a :class:`RedisUnavailable`: retrying with the same URL cannot
    succeed. Fix the credentials in the URL (or the user's ACL rules).
    """


class NotReplicated(RedisUnavailable):
    """A submit with replicated durability was not confirmed by enough replicas in time.

    The primary has the job, but a failover right now could lose it: submitting it again with
    the same ``job_id`` is safe (submits are idempotent on the id).
    """


class QueueFull(BananasError):
    """Redis refused a write because it is out of memory (``maxmemory``, ``noeviction``)."""


class HandlerNotFound(BananasError):
    """No handler is registered under the job's name."""


class InvalidJob(BananasError):
    """A job envelope or payload failed validation (size, depth, type, encoding)."""


class InvalidResult(BananasError):
    """A handler returned what cannot be stored as its result: not JSON-serialisable, or above
    ``limits.max_result_bytes``. The job goes dead at once (reason ``invalid_result``): running
    it again would return the same."""


class JobNotFound(BananasError):
    """No job with that id exists (never submitted, or expired after its retention)."""


class JobFailed(BananasError):
    """The job ended dead; ``error`` and ``traceback`` carry the last failure."""

    def __init__(self, job_id: str, error: str, traceback: str = "") -> None:
        super().__init__(f"job {job_id} failed: {error}")
        self.job_id = job_id
        self.error = error
        self.traceback = traceback


class JobWasCancelled(BananasError):
    """A wait for a job's result found it cancelled (``Client.cancel``) before it finished."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id} was cancelled")
        self.job_id = job_id


class JobTimeout(JobFailed):
    """The job's handler ran past its ``timeout`` on its last attempt: the job is dead with
    reason ``timeout`` (``error`` reads ``JobTimeout: timed out after …``).

    A :class:`JobFailed`, so ``except JobFailed`` handles it with every other failure.
    Waiting that runs out is :class:`ResultTimeout`, not this.
    """


class ResultTimeout(BananasError, TimeoutError):
    """Waiting for a job's result ran out before the job ended; the job itself goes on.

    ``job_id``, the ``state`` it was in, and ``waited`` (seconds). Also a built-in
    :class:`TimeoutError`, as waits in the standard library raise.
    """

    def __init__(self, job_id: str, state: str, waited: float) -> None:
        super().__init__(f"job {job_id} has not ended (state {state}) after {waited:g} s")
        self.job_id = job_id
        self.state = state
        self.waited = waited


class Retry(Exception):
    """Raised by a handler to ask for another attempt, optionally after ``delay`` seconds.

    It still counts as an attempt: once ``max_retries`` is spent the job goes dead.
    """

    def __init__(self, delay: float | None = None, reason: str = "retry requested") -> None:
        super().__init__(reason)
        self.delay = delay
        self.reason = reason


class Reject(Exception):
    """Raised by a handler to dead-letter the job at once, without retries."""

    def __init__(self, reason: str = "rejected by handler") -> None:
        super().__init__(reason)
        self.reason = reason


class JobCancelled(BaseException):
    """Raised inside a running handler whose job was cancelled, once the grace period is over.

    A ``BaseException``: ``except Exception:`` does not catch it, so a handler that swallows
    every error in a loop still stops. A handler may raise it itself (``raise
    JobCancelled(ctx.job_id)``) to stop early once it sees ``ctx.cancelled``; the job then ends
    ``cancelled``. Clean up with ``finally:`` (or catch it, clean up and re-raise).
    """

    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id} was cancelled")
        self.job_id = job_id
