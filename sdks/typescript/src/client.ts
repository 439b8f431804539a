/** The TypeScript client: submit jobs and read their state, like Python's `bananas.Client`. */
import { Redis, type ChainableCommander } from "ioredis";

import { BananasError, InvalidJob, JobNotFound, QueueFull, RedisUnavailable } from "./errors";
import { DEFAULT_LIMITS, prepare, type JobSpec, type Limits, type NewJob, type Payload, type SubmitOptions } from "./envelope";
import { jobInfo, type JobInfo } from "./jobInfo";
import { GlobalKeys, QueueKeys } from "./keys";
import { SUBMIT_COMMAND, loadScript, submitCall, type ScriptCall } from "./scripts";

export interface ClientOptions {
  /** Redis URL (default `redis://127.0.0.1:6379/0`); ignored when `redis` is given. */
  url?: string;
  /** Key namespace shared with the workers (default "bananas"). */
  namespace?: string;
  /** Bound on connecting and on each command, in ms (default 5000). */
  socketTimeoutMs?: number;
  /** Payload limits; unset fields keep their defaults (1 MiB, depth 64). */
  limits?: Partial<Limits>;
  /** An ioredis connection to use instead of `url`; `close()` leaves it open. */
  redis?: Redis;
}

const SPEC_KEYS = new Set(["name", "payload", "priority", "queue", "delay", "at", "jobId", "maxRetries", "timeout"]);

type ScriptMethod = (numKeys: number, ...keysAndArgs: string[]) => Promise<unknown>;

function runScript(target: Redis | ChainableCommander, command: string, call: ScriptCall): Promise<unknown> {
  // defineCommand adds the method at run time; ioredis' types cannot know it.
  const method = (target as unknown as Record<string, ScriptMethod>)[command];
  return method.call(target, call.keys.length, ...call.keys, ...call.args);
}

/** Turn an ioredis failure into a Bananas error (server replies other than OOM pass through). */
function translate(operation: string, err: unknown): unknown {
  if (err instanceof BananasError) {
    return err;
  }
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof Error && err.name === "ReplyError") {
    return message.startsWith("OOM")
      ? new QueueFull(`Redis is out of memory (maxmemory) during ${operation}: ${message}`, { cause: err })
      : err;
  }
  return new RedisUnavailable(`Redis is unreachable during ${operation}: ${message}`, { cause: err });
}

async function guarded<T>(operation: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw translate(operation, err);
  }
}

/**
 * Submit jobs to Bananas and inspect them.
 *
 * Errors: {@link InvalidJob} for bad input (nothing is sent), {@link RedisUnavailable} when
 * Redis cannot be reached within `socketTimeoutMs`, {@link QueueFull} when Redis is at
 * `maxmemory`, {@link JobNotFound} from `getJob`.
 */
export class Client {
  readonly redis: Redis;
  readonly namespace: string;
  readonly limits: Limits;
  private readonly ownsConnection: boolean;
  private readonly globals: GlobalKeys;
  private readonly queueKeys = new Map<string, QueueKeys>();
  private readonly knownQueues = new Set<string>();

  constructor(options: ClientOptions = {}) {
    const timeout = options.socketTimeoutMs ?? 5000;
    this.namespace = options.namespace ?? "bananas";
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.globals = new GlobalKeys(this.namespace);
    this.ownsConnection = options.redis === undefined;
    this.redis = options.redis ?? Client.connect(options.url ?? "redis://127.0.0.1:6379/0", timeout);
    if (!(SUBMIT_COMMAND in this.redis)) {
      // Sent as EVALSHA, falling back to EVAL when Redis lost its script cache.
      this.redis.defineCommand(SUBMIT_COMMAND, { lua: loadScript("submit") });
    }
  }

  private static connect(url: string, timeoutMs: number): Redis {
    const redis = new Redis(url, {
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

  /** Close the connection this client opened (a connection passed in stays open). */
  async close(): Promise<void> {
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
   * Submitting an existing `jobId` again changes nothing and returns the same id.
   */
  async submitJob(name: string, payload?: Payload | null, options: SubmitOptions = {}): Promise<string> {
    const job = prepare(name, payload, options, this.limits);
    await guarded("submitJob", async () => {
      if (this.knownQueues.has(job.queue)) {
        await runScript(this.redis, SUBMIT_COMMAND, submitCall(this.keys(job.queue), job));
      } else {
        await this.submitBatch([job]);
      }
    });
    return job.id;
  }

  /**
   * Submit many jobs in one round trip (a pipeline); resolves to their ids in order.
   * Every spec is validated before anything is sent: one bad spec sends nothing.
   */
  async submitJobs(specs: Iterable<JobSpec>): Promise<string[]> {
    const jobs = [...specs].map((spec, index) => this.prepareSpec(index, spec));
    if (jobs.length > 0) {
      await guarded("submitJobs", () => this.submitBatch(jobs));
    }
    return jobs.map((job) => job.id);
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

  private async candidateQueues(queue: string | undefined): Promise<string[]> {
    if (queue !== undefined) {
      return [queue];
    }
    const names = await this.redis.smembers(this.globals.queues);
    return ["default", ...names.filter((name) => name !== "default").sort()];
  }

  private prepareSpec(index: number, spec: JobSpec): NewJob {
    const unknown = Object.keys(spec ?? {}).filter((key) => !SPEC_KEYS.has(key)).sort();
    if (unknown.length > 0 || typeof spec?.name !== "string") {
      throw new InvalidJob(`job spec #${index}: needs 'name'; unknown keys: ${JSON.stringify(unknown)}`);
    }
    const { name, payload, ...options } = spec;
    return prepare(name, payload, options, this.limits);
  }

  private async submitBatch(jobs: NewJob[]): Promise<void> {
    const newQueues = [...new Set(jobs.map((job) => job.queue))].filter((q) => !this.knownQueues.has(q));
    const pipe = this.redis.pipeline();
    if (newQueues.length > 0) {
      pipe.sadd(this.globals.queues, ...newQueues);
    }
    for (const job of jobs) {
      // The pipeline collects the command; its reply comes back from exec().
      void runScript(pipe, SUBMIT_COMMAND, submitCall(this.keys(job.queue), job));
    }
    const replies = (await pipe.exec()) ?? [];
    const failed = replies.find(([err]) => err !== null);
    if (failed) {
      throw failed[0];
    }
    for (const queue of newQueues) {
      this.knownQueues.add(queue);
    }
  }
}
