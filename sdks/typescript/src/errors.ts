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

/** The job was cancelled (`Client.cancel`) before it could finish. */
export class JobCancelled extends BananasError {
  constructor(readonly jobId: string) {
    super(`job ${jobId} was cancelled`);
  }
}

/** A wait for a job's result ran out before the job ended (the job itself goes on). */
export class JobTimeout extends BananasError {}
