import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, beforeEach, describe, test } from "node:test";

import { Redis } from "ioredis";

import {
  Client,
  JobWasCancelled,
  JobFailed,
  JobNotFound,
  JobTimeout,
  RedisUnavailable,
  ResultTimeout,
} from "bananas-client";

import { RedisServer } from "./support/redisServer";
import { TestWorker } from "./support/worker";

let server: RedisServer;
let admin: Redis;
let client: Client;
let worker: TestWorker;

before(async () => {
  server = await RedisServer.start();
  admin = new Redis(server.url);
  worker = new TestWorker(admin);
});

after(async () => {
  await client?.close();
  admin.disconnect();
  await server.stop();
});

beforeEach(async () => {
  await client?.close();
  await admin.flushall();
  client = new Client({ url: server.url, socketTimeoutMs: 2000 });
});

/** Poll `check` every 10 ms until it is true; fails after `timeoutMs`. */
async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

async function waitedOn(jobId: string, queue = "default"): Promise<void> {
  await waitUntil(async () => (await admin.hget(`{bananas:${queue}}:job:${jobId}`, "waiters")) === "1", `a waiter on ${jobId}`);
}

/** Whether `promise` is still pending after `ms`. */
async function pendingAfter(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const marker = Symbol("pending");
  return (await Promise.race([promise.catch(() => undefined), sleep(ms, marker)])) === marker;
}

describe("unique jobs", () => {
  test("a second submit with the same name and payload returns the first id and enqueues nothing", async () => {
    const first = await client.submitJob("import_file", { path: "x.csv", n: 1 }, { uniqueFor: 60 });
    const second = await client.submitJob("import_file", { n: 1, path: "x.csv" }, { uniqueFor: 60 });
    assert.equal(second, first);
    assert.equal(await admin.llen("{bananas:default}:lane:normal"), 1);
    const [key] = await admin.keys("{bananas:default}:unique:*");
    assert.equal(await admin.get(key), first);
    const ttl = await admin.ttl(key);
    assert.ok(ttl > 55 && ttl <= 60, `ttl ${ttl}`);
    const other = await client.submitJob("import_file", { path: "y.csv", n: 1 }, { uniqueFor: 60 });
    assert.notEqual(other, first);
  });

  test("an explicit key collides whatever the payload, also within one batch", async () => {
    const ids = await client.submitJobs([
      { name: "sync_account", payload: { id: 7, at: 1 }, uniqueKey: "account-7", uniqueFor: 600 },
      { name: "sync_account", payload: { id: 7, at: 2 }, uniqueKey: "account-7", uniqueFor: 600 },
    ]);
    assert.equal(ids[1], ids[0]);
    assert.equal(await admin.get("{bananas:default}:unique:account-7"), ids[0]);
    assert.equal(await admin.hget(`{bananas:default}:job:${ids[0]}`, "unique"), "{bananas:default}:unique:account-7");
  });

  test("the key is released when the job ends, so the next submit creates a job", async () => {
    const first = await client.submitJob("j", { a: 1 }, { uniqueFor: 60 });
    assert.equal(await worker.finish("default", "ok", "null"), first);
    const second = await client.submitJob("j", { a: 1 }, { uniqueFor: 60 });
    assert.notEqual(second, first);
    await client.cancel(second);
    assert.notEqual(await client.submitJob("j", { a: 1 }, { uniqueFor: 60 }), second);
  });
});

describe("routing", () => {
  test("sends jobs to the first matching route unless the call names a queue", async () => {
    const routed = new Client({ url: server.url, routes: { "image.thumbnail": "fast", "image.*": "gpu" } });
    try {
      const thumb = await routed.submitJob("image.thumbnail", {});
      const crop = await routed.submitJob("image.crop", {});
      const forced = await routed.submitJob("image.crop", {}, { queue: "cpu" });
      const [batched] = await routed.submitJobs([{ name: "image.rotate" }]);
      const plain = await routed.submitJob("send_email", {});
      const queues = await Promise.all([thumb, crop, forced, batched, plain].map(async (id) => (await routed.getJob(id)).queue));
      assert.deepEqual(queues, ["fast", "gpu", "cpu", "gpu", "default"]);
      assert.deepEqual((await admin.smembers("bananas:queues")).sort(), ["cpu", "default", "fast", "gpu"]);
    } finally {
      await routed.close();
    }
  });
});

describe("getResult", () => {
  test("returns the result of a finished job at once", async () => {
    const id = await client.submitJob("add", { a: 2, b: 3 });
    await worker.finish("default", "ok", '{"sum":5}');
    assert.deepEqual(await client.getResult(id), { sum: 5 });
    assert.deepEqual(await client.getResult(id, { timeoutMs: 1000, queue: "default" }), { sum: 5 });
  });

  test("blocks without polling and wakes as soon as the job is settled", async () => {
    const id = await client.submitJob("j", {}, { queue: "work" });
    const result = client.getResult(id, { timeoutMs: 5000 });
    await waitedOn(id, "work");
    await sleep(50); // let the waiter reach its blocking command
    await admin.config("RESETSTAT");
    await sleep(300);
    const commands = [...(await admin.info("commandstats")).matchAll(/cmdstat_(\w+):/g)].map((m) => m[1]);
    assert.deepEqual(commands.filter((name) => name !== "config"), [], "commands sent while waiting");
    assert.equal(Number(/blocked_clients:(\d+)/.exec(await admin.info("clients"))![1]), 1);
    const [job] = await worker.take("work");
    await worker.settle("work", job, "ok", "[1,2]");
    const settled = performance.now();
    assert.deepEqual(await result, [1, 2]);
    const wokeMs = performance.now() - settled;
    assert.ok(wokeMs < 100, `woke ${wokeMs.toFixed(1)} ms after the settle`);
  });

  test("throws JobFailed with the error and traceback of a dead job", async () => {
    const id = await client.submitJob("j", {});
    const result = client.getResult(id, { timeoutMs: 5000 });
    await waitedOn(id);
    await worker.finish("default", "dead", "ValueError: nope", "Traceback: boom");
    await assert.rejects(result, (err: unknown) => {
      assert.ok(err instanceof JobFailed);
      assert.equal(err.jobId, id);
      assert.equal(err.error, "ValueError: nope");
      assert.equal(err.traceback, "Traceback: boom");
      assert.equal(err.message, `job ${id} failed: ValueError: nope`);
      return true;
    });
  });

  test("keeps waiting through a retry, and throws JobWasCancelled when the job is cancelled", async () => {
    const id = await client.submitJob("j", {});
    const result = client.getResult(id, { timeoutMs: 5000 });
    await waitedOn(id);
    const [job] = await worker.take();
    await worker.settle("default", job, "retry", "flaky", "", 60_000);
    assert.equal((await client.getJob(id)).state, "retrying");
    assert.ok(await pendingAfter(result, 200), "a retry ended the wait");
    assert.equal(await client.cancel(id), "cancelled");
    await assert.rejects(result, JobWasCancelled);
  });

  test("throws ResultTimeout with the job id when the job has not ended in time, JobNotFound for no job", async () => {
    const id = await client.submitJob("j", {});
    await assert.rejects(client.getResult(id), /has not ended \(state queued\) after 0 ms/);
    const started = performance.now();
    await assert.rejects(client.getResult(id, { timeoutMs: 300 }), (err: unknown) => {
      assert.ok(err instanceof ResultTimeout && !(err instanceof JobTimeout), String(err));
      assert.deepEqual([err.jobId, err.state, err.waitedMs], [id, "queued", 300]);
      return true;
    });
    const waited = performance.now() - started;
    assert.ok(waited >= 290 && waited < 1000, `waited ${waited.toFixed(0)} ms`);
    await assert.rejects(client.getResult("nope", { timeoutMs: 100 }), JobNotFound);
    await assert.rejects(client.getResult("nope", { queue: "other" }), /no job nope in queue other/);
  });

  test("holds at most maxWaiters blocking connections; the other callers wait their turn", async () => {
    const bounded = new Client({ url: server.url, maxWaiters: 2 });
    try {
      const ids = await bounded.submitJobs(Array.from({ length: 5 }, (_, i) => ({ name: "j", payload: { i } })));
      const results = Promise.allSettled(ids.map((id) => bounded.getResult(id, { timeoutMs: 5000 })));
      for (const id of ids) await waitedOn(id);
      await waitUntil(async () => /blocked_clients:2\r/.test(await admin.info("clients")), "two blocked waiters");
      await sleep(100);
      assert.match(await admin.info("clients"), /blocked_clients:2\r/);
      const connections = (await admin.client("LIST")) as string;
      // admin, the default client, this client, and its two waiter connections
      assert.equal(connections.trim().split("\n").length, 5, connections);
      assert.equal(connections.match(/cmd=blmove/g)?.length, 2, connections);
      for (let i = 0; i < 5; i++) {
        const [job] = await worker.take();
        await worker.settle("default", job, "ok", String(i));
      }
      const values = (await results).map((r) => (r.status === "fulfilled" ? r.value : r.reason));
      assert.deepEqual([...values].sort(), [0, 1, 2, 3, 4]);
    } finally {
      await bounded.close();
    }
  });

  test("throws JobTimeout, a JobFailed with the job id, when the handler ran out of time", async () => {
    const id = await client.submitJob("j", {});
    const [job] = await worker.take();
    await worker.settle("default", job, "dead", "JobTimeout: timed out after 1 s", "", 0, "timeout");
    await assert.rejects(client.getResult(id, { timeoutMs: 1000 }), (err: unknown) => {
      assert.ok(err instanceof JobTimeout && err instanceof JobFailed, String(err));
      assert.deepEqual([err.jobId, err.error], [id, "JobTimeout: timed out after 1 s"]);
      return true;
    });
  });

  test("a caller that gets no connection within its timeout throws ResultTimeout", async () => {
    const bounded = new Client({ url: server.url, maxWaiters: 1 });
    try {
      const [long, short] = await bounded.submitJobs([{ name: "a" }, { name: "b" }]);
      const first = bounded.getResult(long, { timeoutMs: 3000 });
      await waitedOn(long);
      const started = performance.now();
      await assert.rejects(bounded.getResult(short, { timeoutMs: 200 }), ResultTimeout);
      assert.ok(performance.now() - started < 1000);
      await bounded.cancel(long);
      await assert.rejects(first, JobWasCancelled);
    } finally {
      await bounded.close();
    }
  });

  test("a wait in progress fails with RedisUnavailable when the client closes", async () => {
    const id = await client.submitJob("j", {});
    const result = client.getResult(id, { timeoutMs: 5000 });
    await waitUntil(async () => /blocked_clients:1\r/.test(await admin.info("clients")), "a blocked waiter");
    const refused = assert.rejects(result, RedisUnavailable); // attached before the close rejects it
    await client.close();
    await refused;
  });
});

describe("submitAndWait", () => {
  test("submits, then resolves to the result once a worker settles the job", async () => {
    const answer = client.submitAndWait("add", { a: 2, b: 3 }, { queue: "rpc", timeoutMs: 5000 });
    await waitUntil(async () => (await admin.llen("{bananas:rpc}:lane:normal")) === 1, "the submitted job");
    const [job] = await worker.take("rpc");
    await waitedOn(job.id, "rpc");
    await worker.settle("rpc", job, "ok", "5");
    assert.equal(await answer, 5);
  });

  test("throws ResultTimeout when nothing runs the job", async () => {
    await assert.rejects(client.submitAndWait("j", {}, { timeoutMs: 100 }), ResultTimeout);
  });
});

describe("cancel", () => {
  test("a queued job ends cancelled at once; a dequeue drops its id from the lane", async () => {
    const id = await client.submitJob("j", {}, { priority: "high" });
    assert.equal(await client.cancel(id), "cancelled");
    assert.equal(await admin.llen("{bananas:default}:lane:high"), 1);
    assert.deepEqual(await new TestWorker(admin).take(), []);
    assert.equal(await admin.llen("{bananas:default}:lane:high"), 0);
    const job = await client.getJob(id);
    assert.equal(job.state, "cancelled");
    assert.equal(job.reason, "cancelled");
    assert.equal(await client.cancel(id), "cancelled");
    assert.deepEqual(await worker.take(), []);
  });

  test("a delayed job leaves the delayed set", async () => {
    const id = await client.submitJob("j", {}, { delay: 60, queue: "later" });
    assert.equal(await client.cancel(id, { queue: "later" }), "cancelled");
    assert.equal(await admin.zcard("{bananas:later}:delayed"), 0);
  });

  test("a running job is marked and its worker is told", async () => {
    const id = await client.submitJob("j", {});
    await worker.take();
    assert.equal(await client.cancel(id), "cancelling");
    assert.equal(await admin.hget(`{bananas:default}:job:${id}`, "cancel"), "1");
    assert.deepEqual(await admin.lrange("{bananas:default}:cancel:test-worker", 0, -1), [id]);
  });

  test("an ended job keeps its state; an unknown id throws JobNotFound", async () => {
    const id = await client.submitJob("j", {});
    await worker.finish("default", "ok", "1");
    assert.equal(await client.cancel(id), "succeeded");
    await assert.rejects(client.cancel("nope"), JobNotFound);
  });
});

describe("pause", () => {
  test("a paused queue hands out nothing until resumed; other queues go on", async () => {
    await client.submitJob("j", {});
    await client.submitJob("j", {}, { queue: "other" });
    assert.equal(await client.pause(), true);
    assert.equal(await client.pause(), false);
    assert.equal(await client.isPaused(), true);
    assert.equal(await client.isPaused("other"), false);
    assert.deepEqual(await worker.take(), []);
    assert.equal((await worker.take("other")).length, 1);
    await admin.del("{bananas:default}:wake:normal");
    assert.equal(await client.resume(), true);
    assert.equal(await admin.llen("{bananas:default}:wake:normal"), 1); // idle fetchers wake at once
    assert.equal(await client.resume(), false);
    assert.equal(await client.isPaused(), false);
    assert.equal((await worker.take()).length, 1);
  });
});
