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
