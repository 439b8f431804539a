import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { ConfigError, Router, fnmatchcase } from "bananas-client";

describe("fnmatchcase", () => {
  test("matches globs like Python's fnmatch.fnmatchcase", () => {
    const cases: [string, string, boolean][] = [
      ["image.crop", "image.*", true], ["image", "image.*", false], ["a.b.c", "*.c", true],
      ["abc", "a?c", true], ["ac", "a?c", false], ["Image.x", "image.*", false],
      ["a1", "a[0-9]", true], ["ax", "a[0-9]", false], ["ax", "a[!0-9]", true],
      ["a]", "a[]]", true], ["a-", "a[a-]", true], ["a[", "a[", true], ["ab", "a[z-a]", false],
      ["x", "[xz-ay]", true], ["a", "[xz-ay]", false], ["", "*", true], ["abc", "a*b*c*", true],
      ["🍌", "?", true], ["🍌", "[🍌-🍎]", true],
    ];
    for (const [name, pattern, expected] of cases) {
      assert.equal(fnmatchcase(name, pattern), expected, `${name} ~ ${pattern}`);
    }
  });
});

describe("Router", () => {
  test("takes the first matching route, in the order given", () => {
    const router = new Router({ "image.thumbnail": "fast", "image.*": "gpu", send_email: "email" });
    assert.deepEqual(router.resolve("image.thumbnail"), ["fast", "normal"]);
    assert.deepEqual(router.resolve("image.crop"), ["gpu", "normal"]);
    assert.deepEqual(router.resolve("send_email"), ["email", "normal"]);
    assert.deepEqual(router.resolve("other"), ["default", "normal"]);
  });

  test("lets the call's queue and priority win", () => {
    const router = new Router([["image.*", "gpu"]]);
    assert.deepEqual(router.resolve("image.crop", "cpu", "high"), ["cpu", "high"]);
  });

  test("treats a pattern without glob characters as an exact name", () => {
    const router = new Router([["image", "gpu"]]);
    assert.deepEqual(router.resolve("image.crop"), ["default", "normal"]);
  });

  test("refuses bad routes with a ConfigError naming them", () => {
    assert.throws(() => new Router({ "a.*": "bad queue" }), /routes\.a\.\*: queue/);
    assert.throws(() => new Router([["", "q"]]), ConfigError);
  });
});
