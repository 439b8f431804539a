import assert from "node:assert/strict";
import { test } from "node:test";

import { QueueKeys, cancelCall, pauseCall, waitCall } from "bananas-client";

const k = new QueueKeys("ns", "q");

test("wait call passes the job hash only, as wait.lua documents", () => {
  assert.deepEqual(waitCall(k, "id1"), { keys: ["{ns:q}:job:id1"], args: [] });
});

test("cancel call passes KEYS and ARGV in the order cancel.lua documents", () => {
  assert.deepEqual(cancelCall(k, "id1", 604800), {
    keys: ["{ns:q}:job:id1", "{ns:q}:delayed", "{ns:q}:stats", "{ns:q}:done:id1"],
    args: ["id1", "604800", "{ns:q}:cancel:", "3600"],
  });
});

test("pause call passes the flag, then (lane, wake) pairs in lane order", () => {
  const lanes = ["high", "normal", "low", "scheduled"].flatMap((lane) => [`{ns:q}:lane:${lane}`, `{ns:q}:wake:${lane}`]);
  assert.deepEqual(pauseCall(k, true), { keys: ["{ns:q}:paused", ...lanes], args: ["1"] });
  assert.deepEqual(pauseCall(k, false).args, ["0"]);
});
