/** Running scripts on ioredis, and turning ioredis failures into Bananas errors. */
import type { ChainableCommander, Cluster, Redis } from "ioredis";

import { BananasError, QueueFull, RedisAuthError, RedisUnavailable } from "./errors";
import { scriptCommand, type ScriptCall, type ScriptName } from "./scripts";

type ScriptMethod = (numKeys: number, ...keysAndArgs: string[]) => Promise<unknown>;

export function runScript(target: Redis | Cluster | ChainableCommander, script: ScriptName, call: ScriptCall): Promise<unknown> {
  // defineCommand adds the method at run time; ioredis' types cannot know it.
  const method = (target as unknown as Record<string, ScriptMethod>)[scriptCommand(script)];
  return method.call(target, call.keys.length, ...call.keys, ...call.args);
}

/** The id in submit.lua's `[created, state, id]` reply: the unique key's owner if it refused. */
export function submittedId(reply: unknown): string {
  return String((reply as unknown[])[2]);
}

/** Replies that say Redis refused who we are: not transient, retrying cannot help. */
const REFUSALS = /^(WRONGPASS|NOAUTH|NOPERM)\b|\b(WRONGPASS|NOPERM) /;

/**
 * Turn an ioredis failure into a Bananas error (server replies other than OOM and refused
 * credentials or permissions pass through).
 */
function translate(operation: string, err: unknown): unknown {
  if (err instanceof BananasError) {
    return err;
  }
  const message = err instanceof Error ? err.message : String(err);
  if (REFUSALS.test(message)) {
    return new RedisAuthError(`Redis refused the credentials or a permission during ${operation}: ${message}`, {
      cause: err,
    });
  }
  if (err instanceof Error && err.name === "ReplyError") {
    return message.startsWith("OOM")
      ? new QueueFull(`Redis is out of memory (maxmemory) during ${operation}: ${message}`, { cause: err })
      : err;
  }
  return new RedisUnavailable(`Redis is unreachable during ${operation}: ${message}`, { cause: err });
}

export async function guarded<T>(operation: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw translate(operation, err);
  }
}
