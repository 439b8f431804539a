/**
 * The Lua lifecycle scripts, shared with the Python package (copied into `lua/` by the
 * build), and the KEYS/ARGV of each script this client calls — one function per script,
 * in the order its header comment (and `bananas/queue/broker.py`) documents.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

import type { NewJob } from "./envelope";
import type { QueueKeys } from "./keys";

/** Folder holding the copied `.lua` files (next to `dist/` in the package). */
export const LUA_DIR = join(__dirname, "..", "lua");

/** Command name under which the submit script is defined on an ioredis connection. */
export const SUBMIT_COMMAND = "bananasSubmit";

/** The text of one lifecycle script, e.g. `loadScript("submit")`. */
export function loadScript(name: string): string {
  return readFileSync(join(LUA_DIR, `${name}.lua`), "utf8");
}

/** KEYS and ARGV of one script call. */
export interface ScriptCall {
  keys: string[];
  args: string[];
}

function opt(value: number | null): string {
  return value === null ? "" : String(value);
}

/** submit.lua — KEYS: job, lane, lane wake, delayed, scheduler wake, stats. */
export function submitCall(k: QueueKeys, job: NewJob): ScriptCall {
  return {
    keys: [k.job(job.id), k.lane(job.priority), k.wake(job.priority), k.delayed, k.schedulerWake, k.stats],
    args: [
      job.id,
      job.name,
      job.payload,
      job.queue,
      job.priority,
      opt(job.maxRetries),
      opt(job.timeout),
      opt(job.delayMs),
      opt(job.atMs),
    ],
  };
}
