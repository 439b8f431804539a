/**
 * The default unique key of a job, byte-for-byte the one `bananas/envelope.py` computes:
 * the SHA-1 hex digest of `<name> NUL <payload as JSON with sorted keys>`, where Python
 * writes that JSON with orjson (`OPT_SORT_KEYS`).
 *
 * The payload is taken as the worker will see it: the JSON text this client sends, read
 * back the way Python reads it (integers written without a fraction are ints, anything else
 * a float), then written out with orjson's rules — keys sorted by code point at every level,
 * no spaces, non-ASCII characters as UTF-8, control characters escaped, and floats in
 * orjson's notation (`1.0`, `0.00001`, `1e-6`, `1e+16`). A Python caller who passes `1.0`
 * (a float) gets a different key than a TypeScript caller who passes `1`, which JavaScript
 * cannot tell apart from `1.0`; give such jobs an explicit `uniqueKey`.
 */
import { createHash } from "node:crypto";

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** Compare strings by Unicode code point, as orjson (Rust `str` order) sorts keys. */
export function compareCodePoints(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  const common = Math.min(left.length, right.length);
  for (let i = 0; i < common; i++) {
    const diff = left[i].codePointAt(0)! - right[i].codePointAt(0)!;
    if (diff !== 0) return diff;
  }
  return left.length - right.length;
}

/** A double in orjson's notation: shortest round-trip digits, decimal for 1e-5 ≤ |x| < 1e16. */
export function formatFloat(value: number): string {
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const sign = value < 0 ? "-" : "";
  // toExponential() without an argument gives the shortest digits that round-trip.
  const [mantissa, exponentText] = Math.abs(value).toExponential().split("e");
  const digits = mantissa.replace(".", "");
  const exponent = Number(exponentText);
  if (exponent < -5 || exponent >= 16) {
    const fraction = digits.length > 1 ? `.${digits.slice(1)}` : "";
    return `${sign}${digits[0]}${fraction}e${exponent < 0 ? "-" : "+"}${Math.abs(exponent)}`;
  }
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  if (digits.length <= exponent + 1) return `${sign}${digits.padEnd(exponent + 1, "0")}.0`;
  return `${sign}${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
}

/** A number as Python reads it from `JSON.stringify` output, then as orjson writes it. */
function formatNumber(value: number): string {
  const text = String(value); // what JSON.stringify sent for this number
  if (/^-?\d+$/.test(text)) {
    const int = BigInt(text);
    // Python reads integer text as int; orjson reads one outside 64 bits as a float.
    if (int >= INT64_MIN && int <= UINT64_MAX) return text;
  }
  return formatFloat(value);
}

/** JSON text of a parsed JSON value the way orjson writes it with `OPT_SORT_KEYS`. */
export function canonicalJson(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return formatNumber(value);
  // JSON.stringify escapes exactly as orjson does: \" \\ \b \t \n \f \r, other controls \u00xx.
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).sort(compareCodePoints);
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key])}`).join(",")}}`;
}

/** The default unique key of job `name` whose payload was encoded as `payloadJson`. */
export function defaultUniqueKey(name: string, payloadJson: string): string {
  const canonical = canonicalJson(JSON.parse(payloadJson));
  return createHash("sha1").update(`${name}\0${canonical}`, "utf8").digest("hex");
}
