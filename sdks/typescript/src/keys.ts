/**
 * Redis key names, as in `bananas/keys.py`. Every key of one queue carries the hash tag
 * `{<namespace>:<queue>}`, so each script works on one Redis Cluster slot.
 */

/** Priorities a job may be submitted with (each one is a ready lane of its queue). */
export const PRIORITIES = ["high", "normal", "low"] as const;
export type Priority = (typeof PRIORITIES)[number];

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

  /** HASH of one job: envelope fields, state, attempts, result, error, timestamps. */
  job(jobId: string): string {
    return `${this.tag}:job:${jobId}`;
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
