/** The one error tree of the Bananas client, mirroring `bananas.errors` in Python. */

/** Base of every error Bananas raises on purpose. */
export class BananasError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A job envelope or payload failed validation (name, priority, size, depth, type). */
export class InvalidJob extends BananasError {}

/** Redis could not be reached, or the connection failed or timed out mid-command. */
export class RedisUnavailable extends BananasError {}

/**
 * Redis refused who we are: a wrong password or unknown user (`WRONGPASS`, `NOAUTH`), or an
 * ACL user lacking a command or key the call needs (`NOPERM`). Not transient: retrying with
 * the same credentials cannot succeed.
 */
export class RedisAuthError extends BananasError {}

/** Redis refused a write because it is out of memory (`maxmemory` with `noeviction`). */
export class QueueFull extends BananasError {}

/** No job with that id exists (never submitted, or expired after its retention). */
export class JobNotFound extends BananasError {}

/** A setting has a bad value (e.g. a route); the message names it. */
export class ConfigError extends BananasError {}

/** The job ended dead; `error` and `traceback` carry its last failure. */
export class JobFailed extends BananasError {
  constructor(
    readonly jobId: string,
    readonly error: string,
    readonly traceback: string = "",
  ) {
    super(`job ${jobId} failed: ${error}`);
  }
}

/**
 * A wait for a job's result found it cancelled (`Client.cancel`) before it finished. The same
 * name as the Python client's; in Python `JobCancelled` is the signal a running handler gets.
 */
export class JobWasCancelled extends BananasError {
  constructor(readonly jobId: string) {
    super(`job ${jobId} was cancelled`);
  }
}

/** @deprecated The earlier name of {@link JobWasCancelled}. */
export const JobCancelled = JobWasCancelled;

/**
 * The job's handler ran past its timeout on its last attempt: the job is dead with reason
 * `timeout`. A {@link JobFailed}, so `instanceof JobFailed` covers it with every other failure.
 * Waiting that runs out is {@link ResultTimeout}, not this.
 */
export class JobTimeout extends JobFailed {}

/** Waiting for a job's result ran out before the job ended; the job itself goes on. */
export class ResultTimeout extends BananasError {
  constructor(
    readonly jobId: string,
    readonly state: string,
    readonly waitedMs: number,
  ) {
    super(`job ${jobId} has not ended (state ${state}) after ${waitedMs} ms`);
  }
}
