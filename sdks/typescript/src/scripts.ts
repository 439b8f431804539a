/**
 * The Lua lifecycle scripts, shared with the Python package (copied into `lua/` by the
 * build), and the KEYS/ARGV of each script this client calls — one function per script,
 * in the order its header comment (and `bananas/queue/broker.py`) documents.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

import type { NewJob } from "./envelope";
import { LANES, type QueueKeys } from "./keys";

/** Folder holding the copied `.lua` files (next to `dist/` in the package). */
export const LUA_DIR = join(__dirname, "..", "lua");

/** The scripts this client runs, by file name (without `.lua`). */
export const SCRIPT_NAMES = ["submit", "wait", "cancel", "pause"] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

/** Command name under which a script is defined on an ioredis connection. */
export function scriptCommand(name: ScriptName): string {
  return `bananas_${name}`;
}

/** Command name of the submit script (kept for callers of earlier versions). */
export const SUBMIT_COMMAND = scriptCommand("submit");

/** How long a cancelled running job stays on its worker's cancel list, as in Python. */
export const CANCEL_LIST_TTL_SECONDS = 3600;

/**
 * The text of one lifecycle script, e.g. `loadScript("submit")`, with the shared `_lib.lua`
 * put in front (after the `#!lua` flags line, which must stay first), as the Python side does.
 */
export function loadScript(name: string): string {
  const text = readFileSync(join(LUA_DIR, `${name}.lua`), "utf8");
  const lib = readFileSync(join(LUA_DIR, "_lib.lua"), "utf8");
  if (!text.startsWith("#!")) return lib + text;
  const cut = text.indexOf("\n") + 1;
  return text.slice(0, cut) + lib + text.slice(cut);
}

/** KEYS and ARGV of one script call. */
export interface ScriptCall {
  keys: string[];
  args: string[];
}

function opt(value: number | null): string {
  return value === null ? "" : String(value);
}

/**
 * submit.lua — KEYS: job, lane, lane wake, delayed, scheduler wake, stats, inflight, paused
 * flag, [unique key]; ARGV: id, name, payload, queue, priority, max_retries, timeout, delay ms,
 * ETA ms, unique_for s ('' without a unique key), job key prefix, lane key prefix, waiters key
 * prefix, mailbox key prefix, owned key prefix, keep payload ('' here), signature ('' unsigned). Replies `[created, state, id]` (id: the unique key's owner;
 * state `active` when the job was handed straight to an idle worker).
 */
export function submitCall(k: QueueKeys, job: NewJob): ScriptCall {
  const call = {
    keys: [
      k.job(job.id),
      k.lane(job.priority),
      k.wake(job.priority),
      k.delayed,
      k.schedulerWake,
      k.stats,
      k.inflight,
      k.paused,
    ],
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
      "",
      k.jobPrefix,
      k.lanePrefix,
      k.waitersPrefix,
      k.mailboxPrefix,
      k.ownedPrefix,
      "",
      job.signature ?? "",
    ],
  };
  if (job.uniqueKey !== null && job.uniqueFor !== null) {
    call.keys.push(k.unique(job.uniqueKey));
    call.args[9] = String(job.uniqueFor);
  }
  return call;
}

/**
 * wait.lua — KEYS: job; no ARGV. Replies `[]` (missing), `[state]` (not ended; the job is
 * now marked as waited on) or `[state, result, error, traceback]` (ended).
 */
export function waitCall(k: QueueKeys, jobId: string): ScriptCall {
  return { keys: [k.job(jobId)], args: [] };
}

/**
 * cancel.lua — KEYS: job, delayed, stats, done list;
 * ARGV: id, retention s of the cancelled job, cancel list prefix, cancel list TTL s.
 * Replies the job's state afterwards, or `missing`.
 */
export function cancelCall(k: QueueKeys, jobId: string, retentionSeconds: number): ScriptCall {
  return {
    keys: [k.job(jobId), k.delayed, k.stats, k.done(jobId)],
    args: [jobId, String(retentionSeconds), k.cancelPrefix, String(CANCEL_LIST_TTL_SECONDS)],
  };
}

/**
 * pause.lua — KEYS: paused flag, then (lane, lane wake) for high, normal, low, scheduled;
 * ARGV: `1` pause / `0` resume. Replies 1 when the flag changed.
 */
export function pauseCall(k: QueueKeys, paused: boolean): ScriptCall {
  return {
    keys: [k.paused, ...LANES.flatMap((lane) => [k.lane(lane), k.wake(lane)])],
    args: [paused ? "1" : "0"],
  };
}
