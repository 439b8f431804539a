/**
 * Waiting for a job's result without polling, as `bananas/results.py` does.
 *
 * A waiter first runs `wait.lua`: if the job has ended its outcome comes back at once;
 * otherwise the job is marked as waited on, and the settle script (atomic with that check)
 * pushes one marker to the job's done list when it ends. The waiter blocks on that list with
 * `BLMOVE done done` (rotating the marker onto the same list, so every waiter of the job
 * wakes and the marker stays for later ones). Nothing is pushed for jobs nobody waits on.
 *
 * Connections: a blocking command occupies its whole connection, so each waiting call holds
 * one connection of a dedicated pool (made with ioredis `duplicate()`) while it blocks, and
 * gives it back as soon as it wakes. At most `maxWaiters` connections are opened per client;
 * further callers wait (within their own timeout) for a free one instead of opening more.
 */
import type { Connection } from "./connection";

import { JobWasCancelled, JobFailed, JobTimeout, RedisUnavailable } from "./errors";

/** Longest single blocking command (ms); the pool's command timeout is above it. */
export const WAIT_CHUNK_MS = 5000;
/** Redis reads a block timeout below 1 ms as 0, which means forever. */
export const MIN_BLOCK_MS = 10;

/**
 * The result of an ended job from `wait.lua`'s reply; throws its error ({@link JobFailed}, or
 * {@link JobTimeout} when its handler ran out of time; {@link JobWasCancelled}).
 */
export function outcome(jobId: string, reply: string[]): unknown {
  const [state, result, error, traceback, reason] = reply;
  if (state === "succeeded") {
    return result ? JSON.parse(result) : null;
  }
  if (state === "cancelled") {
    throw new JobWasCancelled(jobId);
  }
  if (reason === "timeout") {
    throw new JobTimeout(jobId, error, traceback);
  }
  throw new JobFailed(jobId, error, traceback);
}

type Handoff = (connection: Connection | null) => void;

function closedError(): RedisUnavailable {
  return new RedisUnavailable("the client was closed while waiting for a result");
}

/** At most `max` blocking connections, opened on demand and reused; FIFO for callers. */
export class BlockingPool {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly queue: Handoff[] = [];
  private closed = false;

  constructor(
    private readonly open: () => Connection,
    readonly max: number,
  ) {}

  /** Connections opened so far (never more than `max`). */
  get size(): number {
    return this.all.size;
  }

  /**
   * A connection, or null if none is free within `timeoutMs`.
   * @throws {RedisUnavailable} once the pool is closed.
   */
  acquire(timeoutMs: number): Promise<Connection | null> {
    if (this.closed) return Promise.reject(closedError());
    const free = this.idle.pop();
    if (free !== undefined) return Promise.resolve(free);
    if (this.all.size < this.max) {
      const connection = this.open();
      this.all.add(connection);
      return Promise.resolve(connection);
    }
    return new Promise((resolve, reject) => {
      const handoff: Handoff = (connection) => {
        clearTimeout(timer);
        if (connection === null) reject(closedError());
        else resolve(connection);
      };
      const timer = setTimeout(() => {
        this.queue.splice(this.queue.indexOf(handoff), 1);
        resolve(null);
      }, Math.max(timeoutMs, 0));
      this.queue.push(handoff);
    });
  }

  /** Give a connection back: to the longest-waiting caller, else to the idle list. */
  release(connection: Connection): void {
    const next = this.queue.shift();
    if (next !== undefined) next(connection);
    else if (this.closed) connection.disconnect();
    else this.idle.push(connection);
  }

  /** Disconnect every connection; blocked commands and waiting callers fail. */
  close(): void {
    this.closed = true;
    for (const handoff of this.queue.splice(0)) handoff(null);
    for (const connection of this.all) connection.disconnect();
    this.all.clear();
    this.idle.length = 0;
  }
}

/**
 * Block on `doneKey` through `connection` until its marker is there (true) or the clock
 * passes `deadline` (false). Each command blocks at most {@link WAIT_CHUNK_MS}.
 */
export async function blockUntilDone(
  connection: Connection,
  doneKey: string,
  deadline: number,
  now: () => number,
): Promise<boolean> {
  for (;;) {
    const remaining = deadline - now();
    if (remaining <= 0) return false;
    const seconds = Math.max(Math.min(remaining, WAIT_CHUNK_MS), MIN_BLOCK_MS) / 1000;
    if ((await connection.blmove(doneKey, doneKey, "RIGHT", "LEFT", seconds)) !== null) return true;
  }
}
