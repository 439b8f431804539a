/**
 * A stand-in for a Bananas worker in tests: takes and settles jobs with the very dequeue and
 * settle scripts the Python server runs (KEYS/ARGV as `bananas/queue/broker.py` passes them).
 */
import type { Redis } from "ioredis";

import { LANES, QueueKeys, loadScript } from "bananas-client";

export interface Taken {
  id: string;
  token: string;
}

type Script = (numKeys: number, ...args: (string | number)[]) => Promise<unknown>;

export class TestWorker {
  constructor(
    private readonly redis: Redis,
    private readonly namespace = "bananas",
  ) {
    for (const name of ["dequeue", "settle"]) {
      if (!(`test_${name}` in redis)) redis.defineCommand(`test_${name}`, { lua: loadScript(name) });
    }
  }

  private script(name: string): Script {
    return (...args) => (this.redis as unknown as Record<string, Script>)[`test_${name}`].apply(this.redis, args);
  }

  /** Take up to `count` jobs of `queue` (all lanes, high first), leased for 30 s. */
  async take(queue = "default", count = 1): Promise<Taken[]> {
    const k = new QueueKeys(this.namespace, queue);
    const keys = [
      `${k.tag}:inflight`,
      `${k.tag}:dead`,
      k.stats,
      k.paused,
      k.schedulerWake,
      ...LANES.flatMap((l) => [k.lane(l), k.wake(l), `${k.waitersPrefix}${l}`]),
    ];
    // No waiter: this stand-in never blocks, so submits never hand it a job.
    const args = [count, 30_000, "test-worker", k.jobPrefix, 600, "", "0", 0, `${k.mailboxPrefix}`, k.ownedPrefix];
    const reply = (await this.script("dequeue")(keys.length, ...keys, ...args)) as string[];
    const flat = reply.slice(1 + Number(reply[0]), -1); // the last entry: registered or not; 11 entries a job
    const taken: Taken[] = [];
    for (let i = 0; i < flat.length; i += 11) taken.push({ id: String(flat[i]), token: String(flat[i + 1]) });
    return taken;
  }

  /** Record one outcome: "ok" (data: result JSON), "retry", "dead" or "cancelled" (data: error). */
  async settle(queue: string, job: Taken, kind: string, data: string, traceback = "", delayMs = 0,
               reason = "failed"): Promise<number> {
    const k = new QueueKeys(this.namespace, queue);
    const keys = [`${k.tag}:inflight`, k.delayed, `${k.tag}:dead`, k.stats, k.schedulerWake, `${k.tag}:history`];
    // history rings of 60 one-minute and 96 fifteen-minute buckets; no measured run time ("")
    const args = [k.jobPrefix, 600, 600, `${k.tag}:done:`, "0", k.ownedPrefix, 60_000, 900_000, 60, 96,
      job.id, job.token, kind, data, traceback, delayMs, reason, ""];
    const [settled] = (await this.script("settle")(keys.length, ...keys, ...args)) as number[];
    return settled;
  }

  /** Take the next job of `queue` and settle it; resolves to its id. */
  async finish(queue: string, kind: string, data: string, traceback = ""): Promise<string> {
    const [job] = await this.take(queue);
    if (job === undefined) throw new Error(`no job to take in queue ${queue}`);
    if ((await this.settle(queue, job, kind, data, traceback)) !== 1) throw new Error(`job ${job.id} was not settled`);
    return job.id;
  }
}
