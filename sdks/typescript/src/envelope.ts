/**
 * What a job is on the wire, and the validation applied before anything is sent.
 * Same rules as `bananas/envelope.py`, so a job is accepted or refused alike in both languages.
 */
import { randomBytes } from "node:crypto";

import { InvalidJob } from "./errors";
import { PRIORITIES, type Priority } from "./keys";
import type { Signer } from "./signing";
import { defaultUniqueKey } from "./unique";

export const MAX_NAME_LENGTH = 200;

/** A JSON object: the only shape a payload may have. */
export type Payload = { [key: string]: unknown };

/** Input limits applied at submit (and again by the worker on receipt). */
export interface Limits {
  /** Largest encoded payload, in UTF-8 bytes (default 1 MiB). */
  maxPayloadBytes: number;
  /** Deepest nesting of objects/arrays, the payload itself being level 1 (default 64). */
  maxDepth: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxPayloadBytes: 1024 * 1024,
  maxDepth: 64,
});

/** Options of one submission; `undefined` or `null` means "not given". */
export interface SubmitOptions {
  /** "high", "normal" (default) or "low". */
  priority?: Priority;
  /** Queue name (default "default"). */
  queue?: string;
  /** Seconds from now (Redis time) before the job may run. */
  delay?: number | null;
  /** When the job may run: a Date or epoch seconds. Not together with `delay`. */
  at?: Date | number | null;
  /** Your own id: submitting an existing id again changes nothing. */
  jobId?: string | null;
  /** Retries after the first attempt (default: the worker's setting). */
  maxRetries?: number | null;
  /** Seconds one attempt may run (default: the worker's setting). */
  timeout?: number | null;
  /**
   * Make the job unique for this many seconds (at least 1): while a job with the same unique
   * key is pending or running, a submit returns that job's id and enqueues nothing.
   */
  uniqueFor?: number | null;
  /** The unique key (needs `uniqueFor`); by default a digest of the name and payload. */
  uniqueKey?: string | null;
}

/** One job of `Client.submitJobs`: `submitJob`'s arguments as one object. */
export interface JobSpec extends SubmitOptions {
  name: string;
  payload?: Payload | null;
}

/** A validated job, ready to be written by the submit script. */
export interface NewJob {
  readonly id: string;
  readonly name: string;
  /** The payload as JSON text. */
  readonly payload: string;
  readonly queue: string;
  readonly priority: Priority;
  readonly maxRetries: number | null;
  readonly timeout: number | null;
  readonly delayMs: number | null;
  readonly atMs: number | null;
  /** Name of the unique key (without its queue's prefix), or null. */
  readonly uniqueKey: string | null;
  /** Whole seconds the unique key is held at most, or null. */
  readonly uniqueFor: number | null;
  /** The signed envelope's `sig` field (see `signing.ts`), or "" when unsigned. */
  readonly signature: string;
}

/** A random 128-bit job id as 32 lowercase hex characters (like Python's `uuid4().hex`). */
export function newJobId(): string {
  return randomBytes(16).toString("hex");
}

// Exactly the characters for which Python's str.isspace() is true, so both clients agree.
const SPACE_OR_BRACE =
  /[{}\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;

/** A job, queue or handler name: non-empty text without braces (they would break hash tags). */
export function checkName(kind: string, value: unknown): string {
  // Length in code points, as Python counts it.
  if (typeof value !== "string" || value === "" || [...value].length > MAX_NAME_LENGTH) {
    throw new InvalidJob(`${kind} must be a non-empty string of at most ${MAX_NAME_LENGTH} characters`);
  }
  if (SPACE_OR_BRACE.test(value)) {
    throw new InvalidJob(`${kind} ${JSON.stringify(value)} must not contain braces or white space`);
  }
  return value;
}

function isPlainObject(value: unknown): value is Payload {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return false;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object" && value !== null) return `a ${value.constructor?.name ?? "object"}`;
  return `a ${typeof value}`;
}

/** Encode a payload object as JSON text, enforcing type, depth and size limits. */
export function encodePayload(payload: Payload | null | undefined, limits: Limits): string {
  if (payload === undefined || payload === null) {
    return "{}";
  }
  if (!isPlainObject(payload)) {
    throw new InvalidJob(`payload must be a JSON object (a plain object), not ${kindOf(payload)}`);
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(payload);
  } catch (err) {
    // TypeError: a cycle or a BigInt; RangeError: nesting deep enough to exhaust the stack.
    const why = err instanceof RangeError ? `nested deeper than ${limits.maxDepth} levels` : "not JSON-serialisable";
    throw new InvalidJob(`payload is ${why}: ${(err as Error).message}`, { cause: err });
  }
  if (text === undefined || !text.startsWith("{")) {
    throw new InvalidJob("payload must encode to a JSON object (check its toJSON method)");
  }
  if (jsonDepth(text) > limits.maxDepth) {
    throw new InvalidJob(`payload is nested deeper than ${limits.maxDepth} levels`);
  }
  const size = Buffer.byteLength(text, "utf8");
  if (size > limits.maxPayloadBytes) {
    throw new InvalidJob(`payload is ${size} bytes, above the limit of ${limits.maxPayloadBytes}`);
  }
  return text;
}

/**
 * Deepest nesting of objects and arrays in JSON text (a scalar is 0, `{}` is 1).
 * Measured on the encoded text, so it counts exactly what is sent, iteratively.
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return deepest;
}

function given<T>(value: T | null | undefined): value is T {
  return value !== undefined && value !== null;
}

function checkOptions(options: SubmitOptions, priority: unknown): void {
  if (!(PRIORITIES as readonly unknown[]).includes(priority)) {
    throw new InvalidJob(`priority must be one of ${PRIORITIES.join(", ")}, not ${JSON.stringify(priority)}`);
  }
  if (given(options.delay) && given(options.at)) {
    throw new InvalidJob("give delay or at, not both");
  }
  const { maxRetries, timeout, delay } = options;
  if (given(maxRetries) && !(Number.isSafeInteger(maxRetries) && maxRetries >= 0)) {
    throw new InvalidJob("maxRetries must be a non-negative integer");
  }
  if (given(timeout) && !(typeof timeout === "number" && Number.isFinite(timeout) && timeout > 0)) {
    throw new InvalidJob("timeout must be a positive number of seconds");
  }
  if (given(delay) && !(typeof delay === "number" && Number.isFinite(delay) && delay >= 0)) {
    throw new InvalidJob("delay must be a non-negative number of seconds");
  }
  const { uniqueFor, uniqueKey } = options;
  if (given(uniqueKey) && !given(uniqueFor)) {
    throw new InvalidJob("uniqueKey needs uniqueFor: the seconds the key is held at most");
  }
  if (given(uniqueFor) && !(typeof uniqueFor === "number" && Number.isFinite(uniqueFor) && uniqueFor >= 1)) {
    throw new InvalidJob("uniqueFor must be a number of seconds, at least 1");
  }
}

function epochMs(at: Date | number): number {
  const ms = at instanceof Date ? at.getTime() : typeof at === "number" ? Math.round(at * 1000) : NaN;
  if (!Number.isFinite(ms)) {
    throw new InvalidJob("at must be a valid Date or epoch seconds");
  }
  return ms;
}

/**
 * Validate one submission and turn it into a {@link NewJob}; throws {@link InvalidJob}.
 * With `signer` the job carries its signature.
 */
export function prepare(
  name: string,
  payload: Payload | null | undefined,
  options: SubmitOptions,
  limits: Limits,
  signer: Signer | null = null,
): NewJob {
  const priority = options.priority ?? "normal";
  checkOptions(options, priority);
  const encoded = encodePayload(payload, limits);
  const checkedName = checkName("job name", name);
  const unique = given(options.uniqueFor);
  const uniqueKey = given(options.uniqueKey) ? options.uniqueKey : unique ? defaultUniqueKey(checkedName, encoded) : null;
  const id = given(options.jobId) ? checkName("job id", options.jobId) : newJobId();
  const queue = checkName("queue", options.queue ?? "default");
  const maxRetries = options.maxRetries ?? null;
  const timeout = options.timeout ?? null;
  return {
    id,
    name: checkedName,
    payload: encoded,
    queue,
    priority,
    maxRetries,
    timeout,
    delayMs: given(options.delay) ? Math.round(options.delay * 1000) : null,
    atMs: given(options.at) ? epochMs(options.at) : null,
    uniqueKey: uniqueKey === null ? null : checkName("uniqueKey", uniqueKey),
    // Python stores int(unique_for): whole seconds, rounded towards zero.
    uniqueFor: unique ? Math.trunc(options.uniqueFor!) : null,
    signature: signer === null ? "" : signer.sign(queue, id, checkedName, priority, maxRetries, timeout, encoded),
  };
}
