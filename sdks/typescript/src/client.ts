/** The TypeScript client: submit jobs and read their state, like Python's `bananas.Client`. */
import { Cluster } from "ioredis";

import { guarded, runScript, submittedId } from "./calls";
import { connect, type Connection } from "./connection";
import { InvalidJob, JobNotFound, ResultTimeout } from "./errors";
import { DEFAULT_LIMITS, prepare, type JobSpec, type Limits, type NewJob, type Payload, type SubmitOptions } from "./envelope";
import { jobInfo, type JobInfo } from "./jobInfo";
import { GlobalKeys, QueueKeys } from "./keys";
import { BlockingPool, WAIT_CHUNK_MS, blockUntilDone, outcome } from "./results";
import { Router, type Routes } from "./routing";
import { SCRIPT_NAMES, cancelCall, loadScript, pauseCall, scriptCommand, submitCall, waitCall } from "./scripts";
import { makeSigner, type Signer, type SigningOptions } from "./signing";

/** How long jobs are kept once they end (seconds); the client needs the dead retention only. */
export interface Retention {
  /** Kept after success (default 24 h); the servers apply it, listed for symmetry with Python. */
  succeededSeconds: number;
  /** Kept after dying — and after being cancelled by this client (default 7 days). */
  deadSeconds: number;
}

export const DEFAULT_RETENTION: Readonly<Retention> = Object.freeze({ succeededSeconds: 86400, deadSeconds: 604800 });

export interface ClientOptions {
  /**
   * Redis URL (default `redis://127.0.0.1:6379/0`); ignored when `redis` is given. Also
   * `redis+sentinel://h:p,h:p/<master>` and `redis+cluster://h:p,h:p` (see `connect`).
   */
  url?: string;
  /** Key namespace shared with the workers (default "bananas"). */
  namespace?: string;
  /** Bound on connecting and on each command, in ms (default 5000). */
  socketTimeoutMs?: number;
  /** Payload limits; unset fields keep their defaults (1 MiB, depth 64). */
  limits?: Partial<Limits>;
  /** An ioredis connection (or Cluster) to use instead of `url`; `close()` leaves it open. */
  redis?: Connection;
  /** Job name or glob pattern → queue; the first match wins (see `Router`). */
  routes?: Routes;
  /** Most connections `getResult` may hold while it blocks (default 50). */
  maxWaiters?: number;
  /** How long a job cancelled by this client is kept: `deadSeconds`, as the servers' setting. */
  retention?: Partial<Retention>;
  /**
   * Sign every submitted job (`{ keys: { k2: secret }, signWith: "k2" }`), so that workers
   * with `security.signing.require` run it; throws {@link ConfigError} for a bad key.
   */
  signing?: SigningOptions;
}

/** Options of `getResult`. */
export interface ResultOptions {
  /** How long to wait for the job to end; 0 or unset: do not wait. */
  timeoutMs?: number;
  /** The job's queue; unset: looked up in every queue known to Redis. */
  queue?: string;
}

/** Options of `submitAndWait`: `submitJob`'s, plus how long to wait (default 30 s). */
export interface SubmitAndWaitOptions extends SubmitOptions {
  timeoutMs?: number;
}

const SPEC_KEYS = new Set([
  "name", "payload", "priority", "queue", "delay", "at", "jobId", "maxRetries", "timeout", "uniqueFor", "uniqueKey",
]);

/**
 * Submit jobs to Bananas, wait for their results, cancel them, pause queues.
 *
 * Errors: {@link InvalidJob} for bad input (nothing is sent), {@link RedisUnavailable} when
 * Redis cannot be reached within `socketTimeoutMs`, {@link QueueFull} when Redis is at
 * `maxmemory`, {@link JobNotFound} for an unknown job id; `getResult` also throws the job's
 * own end: {@link JobFailed} ({@link JobTimeout} when its handler ran out of time),
 * {@link JobWasCancelled}, or {@link ResultTimeout} when the wait ran out.
 *
 * Routing: a job goes to the `queue` given in the call, else to the first of `routes` whose
 * pattern matches its name, else to `"default"`.
 */
export class Client {
  readonly redis: Connection;
  readonly namespace: string;
  readonly limits: Limits;
  readonly router: Router;
  readonly retention: Retention;
  private readonly signer: Signer | null;
  private readonly ownsConnection: boolean;
  private readonly socketTimeoutMs: number;
  private readonly maxWaiters: number;
  private readonly globals: GlobalKeys;
  private readonly queueKeys = new Map<string, QueueKeys>();
  private readonly knownQueues = new Set<string>();
  private readonly now = (): number => performance.now();
  private waiters: BlockingPool | null = null;

  constructor(options: ClientOptions = {}) {
    this.socketTimeoutMs = options.socketTimeoutMs ?? 5000;
    this.namespace = options.namespace ?? "bananas";
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.router = new Router(options.routes ?? []);
    this.retention = { ...DEFAULT_RETENTION, ...options.retention };
    this.maxWaiters = options.maxWaiters ?? 50;
    if (!(Number.isSafeInteger(this.maxWaiters) && this.maxWaiters >= 1)) {
      throw new RangeError("maxWaiters must be a positive integer");
    }
    this.globals = new GlobalKeys(this.namespace);
    this.signer = options.signing === undefined ? null : makeSigner(options.signing, this.namespace);
    this.ownsConnection = options.redis === undefined;
    this.redis = options.redis ?? Client.connect(options.url ?? "redis://127.0.0.1:6379/0", this.socketTimeoutMs);
    for (const name of SCRIPT_NAMES) {
      if (!(scriptCommand(name) in this.redis)) {
        // Sent as EVALSHA, falling back to EVAL when Redis lost its script cache.
        this.redis.defineCommand(scriptCommand(name), { lua: loadScript(name) });
      }
    }
  }

  private static connect(url: string, timeoutMs: number): Connection {
    const redis = connect(url, {
      connectTimeout: timeoutMs,
      commandTimeout: timeoutMs,
      // Fail queued commands on the first failed connection attempt instead of waiting
      // for reconnects: a caller learns within the timeout that Redis is unavailable.
      maxRetriesPerRequest: 0,
    });
    // Failures reach callers through their commands; without a listener ioredis would
    // also print every reconnect failure.
    redis.on("error", () => undefined);
    return redis;
  }

  /** Close the connections this client opened (a connection passed in stays open). */
  async close(): Promise<void> {
    this.waiters?.close();
    if (!this.ownsConnection) {
      return;
    }
    if (this.redis.status === "ready") {
      await this.redis.quit().catch(() => undefined);
    }
    this.redis.disconnect();
  }

  /**
   * Submit one job; resolves to its id once Redis has it.
   *
   * `delay` is seconds from now, `at` a Date or epoch seconds (compared with Redis time).
   * Submitting an existing `jobId` again changes nothing and returns the same id. With
   * `uniqueFor` (seconds; key `uniqueKey`, else a digest of name and payload), a submit
   * while an equal job is pending or running resolves to that job's id and enqueues nothing.
   */
  async submitJob(name: string, payload?: Payload | null, options: SubmitOptions = {}): Promise<string> {
    const job = this.prepare(name, payload, options);
    return guarded("submitJob", async () => {
      if (this.knownQueues.has(job.queue)) {
        return submittedId(await runScript(this.redis, "submit", submitCall(this.keys(job.queue), job)));
      }
      const [id] = await this.submitBatch([job]);
      return id;
    });
  }

  /**
   * Submit many jobs in one round trip (a pipeline); resolves to their ids in order (for a
   * unique job that was refused, the id of the job holding its key).
   * Every spec is validated before anything is sent: one bad spec sends nothing.
   */
  async submitJobs(specs: Iterable<JobSpec>): Promise<string[]> {
    const jobs = [...specs].map((spec, index) => this.prepareSpec(index, spec));
    if (jobs.length === 0) {
      return [];
    }
    return guarded("submitJobs", () => this.submitBatch(jobs));
  }

  /**
   * Submit a job and wait (without polling) for its result, RPC style: `submitJob`'s
   * options plus `timeoutMs` (default 30 s). Throws as `getResult` does; after a
   * {@link ResultTimeout} the job itself goes on.
   */
  async submitAndWait(name: string, payload?: Payload | null, options: SubmitAndWaitOptions = {}): Promise<unknown> {
    const { timeoutMs = 30_000, ...submit } = options;
    const [queue, priority] = this.router.resolve(name, submit.queue, submit.priority);
    const jobId = await this.submitJob(name, payload, { ...submit, queue, priority });
    return this.getResult(jobId, { timeoutMs, queue });
  }

  /**
   * The job's return value once it succeeded; throws its end if it did not.
   *
   * Without `timeoutMs` the job must have ended already; with it, the call blocks in Redis
   * (no polling) until the job ends or the time passes. A retry is not an end: the wait
   * goes on. A blocked call holds one of at most `maxWaiters` connections; callers beyond
   * that wait, within their own timeout, for one to be free.
   * @throws {JobNotFound} {@link JobFailed} (dead: `error`, `traceback`), {@link JobWasCancelled},
   *   {@link JobTimeout} (dead: its handler ran out of time), {@link ResultTimeout} (not ended in time).
   */
  async getResult(jobId: string, options: ResultOptions = {}): Promise<unknown> {
    const timeoutMs = options.timeoutMs ?? 0;
    const deadline = this.now() + timeoutMs;
    const k = await guarded("getResult", async () => this.keys(options.queue ?? (await this.queueOf(jobId))));
    const reply = await guarded("getResult", async () => {
      const first = await this.watch(k, jobId);
      if (first.length !== 1 || timeoutMs <= 0) {
        return first;
      }
      const pool = this.waiterPool();
      const connection = await pool.acquire(deadline - this.now());
      if (connection === null) {
        return first;
      }
      try {
        await blockUntilDone(connection, k.done(jobId), deadline, this.now);
      } finally {
        pool.release(connection);
      }
      return this.watch(k, jobId);
    });
    if (reply.length === 0) {
      throw new JobNotFound(`no job ${jobId} in queue ${k.queue}`);
    }
    if (reply.length < 4) {
      throw new ResultTimeout(jobId, reply[0], timeoutMs);
    }
    return outcome(jobId, reply);
  }

  /**
   * Cancel a job; resolves to its state afterwards. `cancelled`: it was waiting and will
   * never run. `cancelling`: it is running; its handler sees `ctx.cancelled` and is stopped
   * after the servers' grace period, then it ends `cancelled`. A job that had already ended
   * keeps its state (returned).
   * @throws {JobNotFound}
   */
  async cancel(jobId: string, options: { queue?: string } = {}): Promise<string> {
    const state = await guarded("cancel", async () => {
      const k = this.keys(options.queue ?? (await this.queueOf(jobId)));
      return String(await runScript(this.redis, "cancel", cancelCall(k, jobId, this.retention.deadSeconds)));
    });
    if (state === "missing") {
      throw new JobNotFound(`no job ${jobId}` + (options.queue ? ` in queue ${options.queue}` : ""));
    }
    return state;
  }

  /**
   * Stop workers taking jobs from `queue` (running jobs finish; submits still work). The
   * flag survives server restarts. Resolves to false if the queue was paused already.
   */
  async pause(queue = "default"): Promise<boolean> {
    return guarded("pause", async () => (await runScript(this.redis, "pause", pauseCall(this.keys(queue), true))) === 1);
  }

  /** Let workers take jobs from `queue` again; resolves to false if it was not paused. */
  async resume(queue = "default"): Promise<boolean> {
    return guarded("resume", async () => (await runScript(this.redis, "pause", pauseCall(this.keys(queue), false))) === 1);
  }

  /** Whether `queue` is paused. */
  async isPaused(queue = "default"): Promise<boolean> {
    return guarded("isPaused", async () => (await this.redis.exists(this.keys(queue).paused)) === 1);
  }

  /**
   * The job's state, attempts, error, timestamps, payload and result.
   * Without `queue` the job is looked up in every queue known to Redis.
   * @throws {JobNotFound} when no such job exists.
   */
  async getJob(jobId: string, options: { queue?: string } = {}): Promise<JobInfo> {
    const found = await guarded("getJob", async () => {
      for (const queue of await this.candidateQueues(options.queue)) {
        const fields = await this.redis.hgetall(this.keys(queue).job(jobId));
        if (Object.keys(fields).length > 0) {
          return jobInfo(queue, fields);
        }
      }
      return null;
    });
    if (found === null) {
      throw new JobNotFound(`no job ${jobId}` + (options.queue ? ` in queue ${options.queue}` : ""));
    }
    return found;
  }

  /** Key names of `queue` (cached). */
  keys(queue: string): QueueKeys {
    let keys = this.queueKeys.get(queue);
    if (keys === undefined) {
      keys = new QueueKeys(this.namespace, queue);
      this.queueKeys.set(queue, keys);
    }
    return keys;
  }

  private async watch(k: QueueKeys, jobId: string): Promise<string[]> {
    return ((await runScript(this.redis, "wait", waitCall(k, jobId))) as unknown[]).map(String);
  }

  private waiterPool(): BlockingPool {
    // A blocking command must end before the connection's command timeout fires.
    this.waiters ??= new BlockingPool(() => {
      const timeouts = {
        commandTimeout: WAIT_CHUNK_MS + this.socketTimeoutMs,
        connectTimeout: this.socketTimeoutMs,
        maxRetriesPerRequest: 0,
      };
      const connection = this.redis instanceof Cluster
        ? this.redis.duplicate([], { redisOptions: { ...this.redis.options.redisOptions, ...timeouts } })
        : this.redis.duplicate(timeouts);
      connection.on("error", () => undefined);
      return connection;
    }, this.maxWaiters);
    return this.waiters;
  }

  private async queueOf(jobId: string): Promise<string> {
    for (const queue of await this.candidateQueues(undefined)) {
      if ((await this.redis.exists(this.keys(queue).job(jobId))) === 1) {
        return queue;
      }
    }
    throw new JobNotFound(`no job ${jobId}`);
  }

  private async candidateQueues(queue: string | undefined): Promise<string[]> {
    if (queue !== undefined) {
      return [queue];
    }
    const names = await this.redis.smembers(this.globals.queues);
    return ["default", ...names.filter((name) => name !== "default").sort()];
  }

  private prepare(name: string, payload: Payload | null | undefined, options: SubmitOptions): NewJob {
    const [queue, priority] = this.router.resolve(name, options.queue, options.priority);
    return prepare(name, payload, { ...options, queue, priority }, this.limits, this.signer);
  }

  private prepareSpec(index: number, spec: JobSpec): NewJob {
    const unknown = Object.keys(spec ?? {}).filter((key) => !SPEC_KEYS.has(key)).sort();
    if (unknown.length > 0 || typeof spec?.name !== "string") {
      throw new InvalidJob(`job spec #${index}: needs 'name'; unknown keys: ${JSON.stringify(unknown)}`);
    }
    const { name, payload, ...options } = spec;
    return this.prepare(name, payload, options);
  }

  /**
   * One pipeline: register new queues, then one submit per job; resolves to the ids. On Redis
   * Cluster a pipeline may only touch one slot, so each queue gets its own pipeline (sent at
   * once, side by side) and the queue registration its own command.
   */
  private async submitBatch(jobs: NewJob[]): Promise<string[]> {
    const newQueues = [...new Set(jobs.map((job) => job.queue))].filter((q) => !this.knownQueues.has(q));
    const groups = this.redis instanceof Cluster ? groupBy(jobs, (job) => job.queue) : [jobs.map((job, i) => ({ job, i }))];
    const register = newQueues.length > 0 && this.redis instanceof Cluster ? this.redis.sadd(this.globals.queues, ...newQueues) : null;
    const ids: string[] = new Array<string>(jobs.length);
    await Promise.all(groups.map(async (group, n) => {
      const pipe = this.redis.pipeline();
      const registers = n === 0 && newQueues.length > 0 && register === null;
      if (registers) {
        pipe.sadd(this.globals.queues, ...newQueues);
      }
      for (const { job } of group) {
        // The pipeline collects the command; its reply comes back from exec().
        void runScript(pipe, "submit", submitCall(this.keys(job.queue), job));
      }
      const replies = (await pipe.exec()) ?? [];
      const failed = replies.find(([err]) => err !== null);
      if (failed) {
        throw failed[0];
      }
      replies.slice(registers ? 1 : 0).forEach(([, reply], k) => {
        ids[group[k].i] = submittedId(reply);
      });
    }));
    await register;
    for (const queue of newQueues) {
      this.knownQueues.add(queue);
    }
    return ids;
  }
}

/** Items with their indexes, grouped by `key` (groups in first-seen order). */
function groupBy<T>(items: T[], key: (item: T) => string): Array<Array<{ job: T; i: number }>> {
  const groups = new Map<string, Array<{ job: T; i: number }>>();
  items.forEach((job, i) => {
    const k = key(job);
    let group = groups.get(k);
    if (group === undefined) {
      group = [];
      groups.set(k, group);
    }
    group.push({ job, i });
  });
  return [...groups.values()];
}
