import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { Cluster, Redis } from "ioredis";

import { ConfigError, connect } from "bananas-client";

describe("connect", () => {
  test("a Sentinel URL must name its master", () => {
    assert.throws(() => connect("redis+sentinel://127.0.0.1:26379", { lazyConnect: true }), ConfigError);
  });

  test("a bad port is refused with the host it belongs to", () => {
    assert.throws(() => connect("redis+cluster://127.0.0.1:6379,127.0.0.1:x", { lazyConnect: true }), /127\.0\.0\.1:x/);
  });

  test("each URL form gives its kind of connection", () => {
    const sentinel = connect("redis+sentinel://u:p%40ss@127.0.0.1:26379,127.0.0.1:26380/mymaster/2", { lazyConnect: true });
    assert.ok(sentinel instanceof Redis);
    assert.equal(sentinel.options.name, "mymaster");
    assert.equal(sentinel.options.db, 2);
    assert.equal(sentinel.options.password, "p@ss");
    assert.deepEqual(sentinel.options.sentinels, [{ host: "127.0.0.1", port: 26379 }, { host: "127.0.0.1", port: 26380 }]);
    sentinel.disconnect();
    const cluster = connect("rediss+cluster://127.0.0.1:7000,127.0.0.1:7001", { lazyConnect: true });
    cluster.on("error", () => undefined);
    assert.ok(cluster instanceof Cluster);
    assert.deepEqual(cluster.options.redisOptions?.tls, {});
    cluster.disconnect();
  });
});
