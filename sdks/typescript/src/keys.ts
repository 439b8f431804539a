/**
 * Redis key names, as in `bananas/keys.py`. Every key of one queue carries the hash tag
 * `{<namespace>:<queue>}`, so each script works on one Redis Cluster slot.
 */

/** Priorities a job may be submitted with (each one is a ready lane of its queue). */
export const PRIORITIES = ["high", "normal", "low"] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Ready lanes of a queue, in the order a worker takes them. */
export const LANES = ["high", "normal", "low", "scheduled"] as const;

/** Key names of one queue. */
export class QueueKeys {
  readonly tag: string;

  constructor(
    readonly namespace: string,
    readonly queue: string,
  ) {
    this.tag = `{${namespace}:${queue}}`;
  }

  /** List of job ids ready to run. */
  lane(lane: string): string {
    return `${this.tag}:lane:${lane}`;
  }

  /** Short list of wake markers an idle fetcher blocks on. */
  wake(lane: string): string {
    return `${this.tag}:wake:${lane}`;
  }

  /** Prefix of the lanes (`lane(lane)` without the lane). */
  get lanePrefix(): string {
    return `${this.tag}:lane:`;
  }

  /** ZSET of taken job ids by lease deadline (ms). */
  get inflight(): string {
    return `${this.tag}:inflight`;
  }

  /** Prefix of the ZSETs of idle fetchers a submit may hand a job to (+ lane). */
  get waitersPrefix(): string {
    return `${this.tag}:waiters:`;
  }

  /** Prefix of the SETs of in-flight job ids per worker process (+ owner). */
  get ownedPrefix(): string {
    return `${this.tag}:owned:`;
  }

  /** Prefix of the idle fetchers' mailboxes (+ waiter). */
  get mailboxPrefix(): string {
    return `${this.tag}:mailbox:`;
  }

  /** ZSET of job ids by the Redis time (ms) they become ready. */
  get delayed(): string {
    return `${this.tag}:delayed`;
  }

  /** Wake marker for schedulers when a job is delayed for less than their sleep. */
  get schedulerWake(): string {
    return `${this.tag}:wake:scheduler`;
  }

  /** HASH of counters (submitted, succeeded, ...). */
  get stats(): string {
    return `${this.tag}:stats`;
  }

  /** Prefix of every job hash of this queue. */
  get jobPrefix(): string {
    return `${this.tag}:job:`;
  }

  /** HASH of one job: envelope fields, state, attempts, result, error, timestamps. */
  job(jobId: string): string {
    return `${this.tag}:job:${jobId}`;
  }

  /** Present while the queue is paused: workers take nothing from it. */
  get paused(): string {
    return `${this.tag}:paused`;
  }

  /** STRING holding the id of the pending job that owns a unique key (TTL uniqueFor). */
  unique(key: string): string {
    return `${this.tag}:unique:${key}`;
  }

  /** LIST a finished job's marker is pushed to when someone waits for its result. */
  done(jobId: string): string {
    return `${this.tag}:done:${jobId}`;
  }

  /** Prefix of the lists of running jobs a worker process is asked to cancel (+ owner). */
  get cancelPrefix(): string {
    return `${this.tag}:cancel:`;
  }
}

/** Keys that belong to no queue. */
export class GlobalKeys {
  constructor(readonly namespace: string) {}

  /** SET of every queue name a client has submitted to. */
  get queues(): string {
    return `${this.namespace}:queues`;
  }
}
