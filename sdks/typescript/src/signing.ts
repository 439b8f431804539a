/**
 * Signed envelopes, byte for byte as `bananas/signing.py` makes them: an HMAC-SHA256 over the
 * parts of a job that decide what runs, stored in the job hash's `sig` field as
 * `v1:<key id>:<issued at, epoch ms>:<MAC, unpadded base64url>`, the MAC being HMAC-SHA256
 * cut to its first 128 bits. Workers that hold the key
 * run the job; a changed or forged job is dead-lettered unrun (docs/SECURITY.md).
 *
 * The MAC covers `bananas-job-v1` and a newline, then each of namespace, queue, job id, job
 * name, priority, maxRetries (decimal or empty), timeout (the 16 hex digits of its IEEE-754
 * double, or empty), issued at and key id as `<byte length>:<bytes>\n`, and last the payload
 * as `<byte length>:<bytes>`.
 */
import { createHmac } from "node:crypto";

import { ConfigError } from "./errors";

/** Keys a client signs with: `{ keys: { k2: secret }, signWith: "k2" }`. */
export interface SigningOptions {
  /** Secrets by key id (each at least 16 bytes; a string is taken as its UTF-8 bytes). */
  keys: Record<string, string | Uint8Array>;
  /** The key id new jobs are signed with. */
  signWith: string;
}

export const SIGNATURE_VERSION = "v1";
export const MIN_SECRET_BYTES = 16;
export const MAC_BYTES = 16;
const TAG = "bananas-job-v1\n";
const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;

function field(text: string): Buffer {
  const raw = Buffer.from(text, "utf8");
  return Buffer.concat([Buffer.from(`${raw.length}:`, "latin1"), raw, Buffer.from("\n", "latin1")]);
}

/** The timeout as signed: the 16 hex digits of its IEEE-754 double (so 2 and 2.0 agree), or "". */
export function timeoutBits(timeout: number | null): string {
  if (timeout === null) return "";
  const bits = Buffer.alloc(8);
  bits.writeDoubleBE(timeout);
  return bits.toString("hex");
}

/** The bytes a signature's MAC covers. */
export function canonical(
  namespace: string, queue: string, jobId: string, name: string, priority: string,
  maxRetries: number | null, timeout: number | null, issuedAt: number, keyId: string, payload: string,
): Buffer {
  const fields = [namespace, queue, jobId, name, priority, maxRetries === null ? "" : String(maxRetries),
    timeoutBits(timeout), String(issuedAt), keyId];
  const raw = Buffer.from(payload, "utf8");
  return Buffer.concat([Buffer.from(TAG, "latin1"), ...fields.map(field), Buffer.from(`${raw.length}:`, "latin1"), raw]);
}

/** Signs jobs with one key for one namespace. */
export class Signer {
  constructor(
    readonly keyId: string,
    private readonly secret: Buffer,
    readonly namespace: string,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The `sig` field of one job. */
  sign(queue: string, jobId: string, name: string, priority: string, maxRetries: number | null,
    timeout: number | null, payload: string): string {
    const issuedAt = Math.floor(this.clock());
    const message = canonical(this.namespace, queue, jobId, name, priority, maxRetries, timeout, issuedAt,
      this.keyId, payload);
    // HMAC-SHA256 cut to its first 128 bits, as Python's MAC_BYTES: keeps small job hashes compact in Redis.
    const mac = createHmac("sha256", this.secret).update(message).digest().subarray(0, MAC_BYTES).toString("base64url");
    return `${SIGNATURE_VERSION}:${this.keyId}:${issuedAt}:${mac}`;
  }

  toJSON(): object {
    return { keyId: this.keyId, namespace: this.namespace }; // never the secret
  }
}

/** The signer of `options`, checked like the Python side; throws {@link ConfigError}. */
export function makeSigner(options: SigningOptions, namespace: string, clock?: () => number): Signer {
  const keys = options.keys ?? {};
  for (const [keyId, secret] of Object.entries(keys)) {
    if (!KEY_ID.test(keyId)) {
      throw new ConfigError(`signing.keys: key id ${JSON.stringify(keyId)} must be 1-64 of A-Z a-z 0-9 _ . -`);
    }
    const size = typeof secret === "string" ? Buffer.byteLength(secret, "utf8") : secret?.length ?? 0;
    if (size < MIN_SECRET_BYTES) {
      throw new ConfigError(`signing.keys.${keyId}: a secret of at least ${MIN_SECRET_BYTES} bytes is required`);
    }
  }
  const secret = keys[options.signWith];
  if (secret === undefined) {
    throw new ConfigError(`signing.signWith: ${JSON.stringify(options.signWith)} is not among the keys`);
  }
  const raw = typeof secret === "string" ? Buffer.from(secret, "utf8") : Buffer.from(secret);
  return new Signer(options.signWith, raw, namespace, clock);
}
