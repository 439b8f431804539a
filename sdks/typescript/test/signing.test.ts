import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, test } from "node:test";

import { ConfigError, DEFAULT_LIMITS, QueueKeys, canonical, makeSigner, prepare, submitCall, timeoutBits } from "bananas-client";

const SECRET = "ts-secret-0123456789abcdef";

describe("signed envelopes", () => {
  test("a signature is v1:<key id>:<ms>:<HMAC-SHA256 of the canonical bytes>", () => {
    const signer = makeSigner({ keys: { k1: SECRET }, signWith: "k1" }, "bananas", () => 1_700_000_000_000);
    const sig = signer.sign("mail", "j1", "send_email", "high", 2, 1.5, '{"to":"ana"}');
    const mac = createHmac("sha256", SECRET)
      .update(canonical("bananas", "mail", "j1", "send_email", "high", 2, 1.5, 1_700_000_000_000, "k1", '{"to":"ana"}'))
      .digest()
      .subarray(0, 16)
      .toString("base64url");
    assert.equal(sig, `v1:k1:1700000000000:${mac}`);
    assert.equal(mac.length, 22);
  });

  test("the canonical bytes are length-prefixed fields after a tag, payload last", () => {
    const bytes = canonical("ns", "q", "j", "n", "normal", null, null, 5, "k", "{}").toString("utf8");
    assert.equal(bytes, "bananas-job-v1\n2:ns\n1:q\n1:j\n1:n\n6:normal\n0:\n0:\n1:5\n1:k\n2:{}");
    assert.equal(timeoutBits(2), timeoutBits(2.0));
    assert.equal(timeoutBits(1.5), "3ff8000000000000");
  });

  test("prepare signs what submit sends, and submitCall passes it as ARGV 17", () => {
    const signer = makeSigner({ keys: { k1: SECRET }, signWith: "k1" }, "bananas");
    const job = prepare("send_email", { to: "ana" }, { queue: "mail" }, DEFAULT_LIMITS, signer);
    assert.match(job.signature, /^v1:k1:\d+:[A-Za-z0-9_-]{22}$/);
    const call = submitCall(new QueueKeys("bananas", "mail"), job);
    assert.equal(call.args.length, 17);
    assert.equal(call.args[16], job.signature);
    assert.equal(prepare("send_email", {}, {}, DEFAULT_LIMITS).signature, "");
  });

  test("bad keys are refused before anything is sent", () => {
    assert.throws(() => makeSigner({ keys: { k1: "short" }, signWith: "k1" }, "bananas"), ConfigError);
    assert.throws(() => makeSigner({ keys: { "k 1": SECRET }, signWith: "k 1" }, "bananas"), ConfigError);
    assert.throws(() => makeSigner({ keys: { k1: SECRET }, signWith: "k2" }, "bananas"), ConfigError);
    const signer = makeSigner({ keys: { k1: SECRET }, signWith: "k1" }, "bananas");
    assert.ok(!JSON.stringify(signer).includes(SECRET));
  });
});
