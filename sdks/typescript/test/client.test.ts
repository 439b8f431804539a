import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";

import { Redis } from "ioredis";

import { Client, InvalidJob, JobNotFound, RedisAuthError, RedisUnavailable } from "bananas-client";

import { RedisServer, freePort } from "./support/redisServer";

let server: RedisServer;
let admin: Redis;
let client: Client;

before(async () => {
  server = await RedisServer.start();
  admin = new Redis(server.url);
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

/** Calls per command since the last CONFIG RESETSTAT (INFO commandstats). */
async function commandCalls(): Promise<Record<string, number>> {
  const calls: Record<string, number> = {};
  for (const match of (await admin.info("commandstats")).matchAll(/cmdstat_(\w+):calls=(\d+)/g)) {
    calls[match[1]] = Number(match[2]);
  }
  return calls;
}

describe("submitJob", () => {
  test("writes a queued job to its lane and registers its queue", async () => {
    const id = await client.submitJob("send_email", { to: "a@b.c" }, { priority: "high" });
    const fields = await admin.hgetall(`{bananas:default}:job:${id}`);
    assert.equal(fields.state, "queued");
    assert.equal(fields.payload, '{"to":"a@b.c"}');
    assert.equal(fields.name, "send_email");
    assert.deepEqual(await admin.lrange("{bananas:default}:lane:high", 0, -1), [id]);
    assert.deepEqual(await admin.smembers("bananas:queues"), ["default"]);
    assert.equal(await admin.hget("{bananas:default}:stats", "submitted"), "1");
  });

  test("adds a queue to the queue set once per client", async () => {
    await client.submitJob("j", {}, { queue: "reports" });
    await admin.srem("bananas:queues", "reports");
    await client.submitJob("j", {}, { queue: "reports" });
    assert.deepEqual(await admin.smembers("bananas:queues"), []);
  });

  test("schedules a delayed job by Redis time", async () => {
    const id = await client.submitJob("j", {}, { delay: 60 });
    const job = await client.getJob(id);
    assert.equal(job.state, "scheduled");
    const wait = job.runAt!.getTime() - job.createdAt!.getTime();
    assert.equal(wait, 60_000);
    assert.equal(await admin.zscore("{bananas:default}:delayed", id), String(job.runAt!.getTime()));
  });

  test("schedules a job at a Date", async () => {
    const at = new Date(Date.now() + 3_600_000);
    const job = await client.getJob(await client.submitJob("j", {}, { at }));
    assert.equal(job.state, "scheduled");
    assert.equal(job.runAt!.getTime(), at.getTime());
  });

  test("is idempotent on a given job id", async () => {
    const first = await client.submitJob("j", { n: 1 }, { jobId: "order-7" });
    const second = await client.submitJob("j", { n: 2 }, { jobId: "order-7" });
    assert.equal(first, "order-7");
    assert.equal(second, "order-7");
    assert.deepEqual((await client.getJob("order-7")).payload, { n: 1 });
    assert.equal(await admin.llen("{bananas:default}:lane:normal"), 1);
  });

  test("sends nothing for an invalid job", async () => {
    await assert.rejects(client.submitJob("j", { s: "x" }, { priority: "urgent" as never }), InvalidJob);
    const tight = new Client({ url: server.url, limits: { maxPayloadBytes: 100 } });
    try {
      await assert.rejects(tight.submitJob("j", { s: "x".repeat(200) }), /above the limit of 100/);
    } finally {
      await tight.close();
    }
    assert.equal(await admin.dbsize(), 0);
  });

  test("uses its namespace in every key", async () => {
    const other = new Client({ url: server.url, namespace: "shop" });
    try {
      const id = await other.submitJob("j", {});
      assert.equal(await admin.exists(`{shop:default}:job:${id}`), 1);
      assert.deepEqual(await admin.smembers("shop:queues"), ["default"]);
    } finally {
      await other.close();
    }
  });

  test("can use a connection it was given, and leaves it open on close", async () => {
    const own = new Redis(server.url);
    const shared = new Client({ redis: own });
    try {
      const id = await shared.submitJob("j", {});
      await shared.close();
      assert.equal(await own.hget(`{bananas:default}:job:${id}`, "state"), "queued");
    } finally {
      own.disconnect();
    }
  });

  test("recovers when Redis lost its script cache", async () => {
    await client.submitJob("j", {});
    await admin.script("FLUSH");
    const id = await client.submitJob("j", {});
    assert.equal((await client.getJob(id)).state, "queued");
  });
});

describe("submitJobs", () => {
  test("submits a batch over several queues in one pipeline", async () => {
    const specs = Array.from({ length: 50 }, (_, i) => ({
      name: "j", payload: { i }, queue: i % 2 ? "odd" : "even", priority: "low" as const,
    }));
    await admin.config("RESETSTAT");
    const ids = await client.submitJobs(specs);
    // 50 script calls and nothing else from the client (no SCRIPT EXISTS, no per-job reads).
    const calls = await commandCalls();
    assert.equal((calls.eval ?? 0) + (calls.evalsha ?? 0), 50);
    assert.equal(calls.script, undefined);
    assert.equal(calls.sadd, 1);
    assert.equal(new Set(ids).size, 50);
    assert.deepEqual((await admin.smembers("bananas:queues")).sort(), ["even", "odd"]);
    assert.equal(await admin.llen("{bananas:odd}:lane:low"), 25);
    assert.deepEqual((await client.getJob(ids[7])).payload, { i: 7 });
  });

  test("sends nothing when one spec is invalid", async () => {
    await assert.rejects(client.submitJobs([{ name: "ok" }, { name: "bad", priority: "urgent" as never }]), InvalidJob);
    await assert.rejects(client.submitJobs([{ name: "ok", colour: "red" } as never]), /unknown keys: \["colour"\]/);
    assert.equal(await admin.dbsize(), 0);
  });

  test("returns no ids for no specs", async () => {
    assert.deepEqual(await client.submitJobs([]), []);
  });
});

describe("getJob", () => {
  test("reports state, attempts, payload and timestamps", async () => {
    const before = Date.now();
    const id = await client.submitJob("resize", { w: 10 }, { queue: "images", maxRetries: 3, timeout: 30 });
    const job = await client.getJob(id, { queue: "images" });
    assert.equal(job.id, id);
    assert.equal(job.queue, "images");
    assert.equal(job.name, "resize");
    assert.equal(job.state, "queued");
    assert.equal(job.priority, "normal");
    assert.equal(job.attempts, 0);
    assert.deepEqual(job.payload, { w: 10 });
    assert.equal(job.result, null);
    assert.equal(job.error, null);
    assert.ok(job.enqueuedAt!.getTime() >= before - 1000 && job.enqueuedAt!.getTime() <= Date.now() + 1000);
    assert.equal(await admin.hget(`{bananas:images}:job:${id}`, "max_retries"), "3");
    assert.equal(await admin.hget(`{bananas:images}:job:${id}`, "timeout"), "30");
  });

  test("finds a job in any known queue", async () => {
    const id = await client.submitJob("j", {}, { queue: "zeta" });
    await client.submitJob("j", {}, { queue: "alpha" });
    assert.equal((await client.getJob(id)).queue, "zeta");
  });

  test("decodes results and errors written by a worker", async () => {
    const id = await client.submitJob("j", {});
    await admin.hset(`{bananas:default}:job:${id}`, "state", "succeeded", "result", '{"ok":true}', "error", "");
    const job = await client.getJob(id);
    assert.deepEqual(job.result, { ok: true });
    assert.equal(job.error, null);
  });

  test("throws JobNotFound for an unknown id", async () => {
    await client.submitJob("j", {}, { queue: "other" });
    await assert.rejects(client.getJob("nope"), JobNotFound);
    await assert.rejects(client.getJob("nope", { queue: "other" }), /no job nope in queue other/);
  });
});

describe("a Redis that refuses the user", () => {
  test("a wrong password or a missing permission raises RedisAuthError, not RedisUnavailable", async () => {
    await admin.call("ACL", "SETUSER", "ts-reader", "on", ">reader-pw", "~*", "+@read", "+@connection", "+info");
    const port = server.port;
    const wrong = new Client({ url: `redis://ts-reader:not-the-pw@127.0.0.1:${port}/0`, socketTimeoutMs: 1000 });
    const reader = new Client({ url: `redis://ts-reader:reader-pw@127.0.0.1:${port}/0`, socketTimeoutMs: 1000 });
    try {
      await assert.rejects(wrong.submitJob("j", {}), (err: unknown) => {
        assert.ok(err instanceof RedisAuthError && !(err instanceof RedisUnavailable), String(err));
        assert.doesNotMatch(String(err), /not-the-pw/);
        return true;
      });
      await assert.rejects(reader.submitJob("j", {}), (err: unknown) => {
        assert.ok(err instanceof RedisAuthError, String(err));
        assert.match(String(err), /NOPERM/);
        return true;
      });
    } finally {
      await wrong.close();
      await reader.close();
      await admin.call("ACL", "DELUSER", "ts-reader");
    }
  });
});

describe("an unreachable Redis", () => {
  test("raises RedisUnavailable within the socket timeout", async () => {
    const port = await freePort();
    const lost = new Client({ url: `redis://127.0.0.1:${port}/0`, socketTimeoutMs: 500 });
    const started = Date.now();
    try {
      await assert.rejects(lost.submitJob("j", {}), RedisUnavailable);
      await assert.rejects(lost.getJob("x"), RedisUnavailable);
      await assert.rejects(lost.submitJobs([{ name: "j" }]), RedisUnavailable);
    } finally {
      await lost.close();
    }
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
  });

  test("a Redis that stops answering raises RedisUnavailable after socketTimeoutMs", async () => {
    const slow = new Client({ url: server.url, socketTimeoutMs: 300 });
    try {
      await slow.submitJob("j", {}); // connected and the queue registered
      server.pause();
      const started = Date.now();
      await assert.rejects(slow.submitJob("j", {}), /unreachable during submitJob: Command timed out/);
      const waited = Date.now() - started;
      assert.ok(waited >= 250 && waited < 2000, `waited ${waited} ms`);
    } finally {
      server.resume();
      await slow.close();
    }
  });
});
