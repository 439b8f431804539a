import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { canonicalJson, compareCodePoints, formatFloat } from "bananas-client";

describe("floats in orjson's notation", () => {
  test("match what orjson 3.13 printed for each value", () => {
    const printed: [number, string][] = [
      [0.1, "0.1"], [1e15 + 0.5, "1000000000000000.5"], [1e16, "1e+16"], [1e21, "1e+21"],
      [1.5e-7, "1.5e-7"], [1e-6, "1e-6"], [1.5e-6, "1.5e-6"], [0.000123, "0.000123"], [2.5e-5, "0.000025"],
      [1e-5, "0.00001"], [9.99e-6, "9.99e-6"], [123456789.125, "123456789.125"], [1.7976931348623157e308, "1.7976931348623157e+308"],
      [5e-324, "5e-324"], [-0, "-0.0"], [1.2345678901234567e19, "1.2345678901234567e+19"], [3e300, "3e+300"],
      [9999999999999998, "9999999999999998.0"], [-2.5, "-2.5"],
    ];
    for (const [value, text] of printed) {
      assert.equal(formatFloat(value), text, String(value));
    }
  });
});

describe("canonical JSON", () => {
  test("sorts keys by code point at every level, as orjson does", () => {
    assert.equal(canonicalJson({ b: 1, a: { d: 1, c: 2 }, "\ue000": 1, "🍌": 2 }), '{"a":{"c":2,"d":1},"b":1,"\ue000":1,"🍌":2}');
    assert.ok(compareCodePoints("\ue000", "🍌") < 0); // UTF-16 order would say the opposite
  });

  test("writes numbers as Python reads and orjson writes them", () => {
    // Integer text within 64 bits stays an int in Python; outside, Python reads a float
    // (JSON.stringify(-(2 ** 63)) is "-9223372036854776000", just below the int64 range).
    assert.equal(canonicalJson([1, -0, 2.5, 2 ** 60, 2 ** 64, -(2 ** 63), 1e21]),
      "[1,0,2.5,1152921504606847000,1.8446744073709552e+19,-9.223372036854776e+18,1e+21]");
  });

  test("escapes strings as orjson does", () => {
    assert.equal(canonicalJson("\x00\x1f\x7f\u2028\"\\/\b\t\n\f\r"), '"\\u0000\\u001f\x7f\u2028\\"\\\\/\\b\\t\\n\\f\\r"');
  });
});
