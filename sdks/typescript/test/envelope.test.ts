import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  DEFAULT_LIMITS,
  InvalidJob,
  QueueKeys,
  checkName,
  encodePayload,
  newJobId,
  prepare,
  submitCall,
} from "bananas-client";

const limits = DEFAULT_LIMITS;

function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < depth; i++) value = { a: value };
  return value;
}

describe("job ids", () => {
  test("are 32 lowercase hex characters and differ", () => {
    const ids = new Set(Array.from({ length: 100 }, newJobId));
    assert.equal(ids.size, 100);
    for (const id of ids) assert.match(id, /^[0-9a-f]{32}$/);
  });
});

describe("names", () => {
  test("accept plain names", () => {
    assert.equal(checkName("queue", "emails.v2-high_1"), "emails.v2-high_1");
  });

  test("refuse braces, white space, empty and overlong names", () => {
    for (const bad of ["a{b", "a}b", "a b", "tab\tbed", "x\u3000y", "x\x1cy", "x\x85y", "", "n".repeat(201), 7]) {
      assert.throws(() => checkName("queue", bad), InvalidJob, String(bad));
    }
  });

  test("count length in code points, as Python does", () => {
    assert.equal(checkName("job name", "🍌".repeat(200)), "🍌".repeat(200));
  });
});

describe("payloads", () => {
  test("encode as compact JSON; none means {}", () => {
    assert.equal(encodePayload({ to: "a@b.c", n: [1, 2] }, limits), '{"to":"a@b.c","n":[1,2]}');
    assert.equal(encodePayload(undefined, limits), "{}");
    assert.equal(encodePayload(null, limits), "{}");
  });

  test("must be plain objects", () => {
    for (const bad of [[1], "text", 3, new Map(), new Date(0)]) {
      assert.throws(() => encodePayload(bad as never, limits), /must be a JSON object/);
    }
  });

  test("refuse values JSON cannot carry", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => encodePayload(cyclic, limits), /not JSON-serialisable/);
    assert.throws(() => encodePayload({ n: 1n }, limits), /not JSON-serialisable/);
    assert.throws(() => encodePayload({ toJSON: () => [1] }, limits), /encode to a JSON object/);
  });

  test("are limited in depth, counting the payload as level 1", () => {
    assert.doesNotThrow(() => encodePayload(nested(64), limits));
    assert.throws(() => encodePayload(nested(65), limits), /nested deeper than 64/);
    assert.throws(() => encodePayload({ a: [[{}]] }, { ...limits, maxDepth: 3 }), /nested deeper than 3/);
    assert.doesNotThrow(() => encodePayload({ s: "[[[[[[{{{{{" }, { ...limits, maxDepth: 1 }));
  });

  test("refuse absurd nesting without crashing", () => {
    assert.throws(() => encodePayload(nested(200_000), limits), InvalidJob);
  });

  test("are limited in UTF-8 bytes", () => {
    const small = { ...limits, maxPayloadBytes: 20 };
    assert.doesNotThrow(() => encodePayload({ s: "é".repeat(6) }, small)); // 8 + 12 bytes
    assert.throws(() => encodePayload({ s: "é".repeat(7) }, small), /22 bytes, above the limit of 20/);
    assert.throws(() => encodePayload({ s: "x".repeat(1024 * 1024) }, limits), /above the limit of 1048576/);
  });
});

describe("prepare", () => {
  test("fills the defaults", () => {
    const job = prepare("send_email", { to: "x" }, {}, limits);
    assert.match(job.id, /^[0-9a-f]{32}$/);
    assert.deepEqual({ ...job, id: "" }, {
      id: "", name: "send_email", payload: '{"to":"x"}', queue: "default", priority: "normal",
      maxRetries: null, timeout: null, delayMs: null, atMs: null, uniqueKey: null, uniqueFor: null, signature: "",
    });
  });

  test("turns delay and at into milliseconds", () => {
    assert.equal(prepare("j", {}, { delay: 1.5 }, limits).delayMs, 1500);
    assert.equal(prepare("j", {}, { at: 1_700_000_000.25 }, limits).atMs, 1_700_000_000_250);
    assert.equal(prepare("j", {}, { at: new Date(1_700_000_000_123) }, limits).atMs, 1_700_000_000_123);
  });

  test("refuse bad options", () => {
    const bad: object[] = [
      { priority: "urgent" }, { delay: 1, at: 5 }, { delay: -1 }, { delay: Number.NaN },
      { maxRetries: -1 }, { maxRetries: 1.5 }, { timeout: 0 }, { timeout: Infinity },
      { at: new Date(Number.NaN) }, { queue: "a b" }, { jobId: "{x}" }, { jobId: "" },
      { uniqueKey: "k" }, { uniqueFor: 0.5 }, { uniqueFor: Number.NaN }, { uniqueFor: "60" },
      { uniqueFor: 60, uniqueKey: "a b" },
    ];
    for (const options of bad) {
      assert.throws(() => prepare("j", {}, options, limits), InvalidJob, JSON.stringify(options));
    }
    assert.throws(() => prepare("bad name", {}, {}, limits), InvalidJob);
  });

  test("keep a given job id", () => {
    assert.equal(prepare("j", {}, { jobId: "order-42" }, limits).id, "order-42");
  });
});

test("submit call passes KEYS and ARGV in the order submit.lua documents", () => {
  const job = prepare("j", { a: 1 }, { jobId: "id1", priority: "high", queue: "q", maxRetries: 2, timeout: 0.5 }, limits);
  const call = submitCall(new QueueKeys("ns", "q"), job);
  assert.deepEqual(call.keys, [
    "{ns:q}:job:id1", "{ns:q}:lane:high", "{ns:q}:wake:high", "{ns:q}:delayed", "{ns:q}:wake:scheduler", "{ns:q}:stats",
    "{ns:q}:inflight", "{ns:q}:paused",
  ]);
  assert.deepEqual(call.args, [
    "id1", "j", '{"a":1}', "q", "high", "2", "0.5", "", "", "",
    "{ns:q}:job:", "{ns:q}:lane:", "{ns:q}:waiters:", "{ns:q}:mailbox:", "{ns:q}:owned:", "", "",
  ]);
});

describe("unique jobs", () => {
  test("get the default key Python computes: sha1 of name, NUL, payload with sorted keys", () => {
    // Digests printed by bananas.envelope.prepare(name, payload, unique_for=60).unique_key.
    const cases: [string, Record<string, unknown> | null, string][] = [
      ["import_file", { path: "x.csv" }, "d351a60da88df59598d5c005c1655dae1110fe11"],
      ["j", null, "a517275f31d1910a5441d16033f65350d3e79141"],
      ["sync", { b: [1, 2.5, { z: null, a: true }], a: "ü🍌\n", n: 1e-7, big: 1e19 },
        "c4dd0e0df77415685717cf2ce4772e9cb3280e1e"],
    ];
    for (const [name, payload, digest] of cases) {
      assert.equal(prepare(name, payload, { uniqueFor: 60 }, limits).uniqueKey, digest, name);
    }
  });

  test("keep a given key and whole seconds", () => {
    const job = prepare("j", { a: 1 }, { uniqueFor: 90.9, uniqueKey: "account-7" }, limits);
    assert.equal(job.uniqueKey, "account-7");
    assert.equal(job.uniqueFor, 90);
  });

  test("add the unique key and its ARGV to the submit call", () => {
    const job = prepare("j", {}, { jobId: "id1", uniqueFor: 60, uniqueKey: "k" }, limits);
    const call = submitCall(new QueueKeys("ns", "q"), job);
    assert.equal(call.keys.length, 9);
    assert.equal(call.keys[8], "{ns:q}:unique:k");
    assert.deepEqual(call.args.slice(9, 11), ["60", "{ns:q}:job:"]);
  });
});
