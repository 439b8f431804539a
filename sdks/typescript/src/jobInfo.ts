/** A job as stored in Redis, decoded for people and dashboards (`Client.getJob`). */

/** Lifecycle states a job hash may hold. */
export const STATES = ["queued", "scheduled", "active", "succeeded", "retrying", "dead", "cancelled"] as const;

export interface JobInfo {
  id: string;
  queue: string;
  /** Handler name. */
  name: string;
  /** One of {@link STATES} ("unknown" if the hash has none). */
  state: string;
  priority: string;
  /** Attempts started so far. */
  attempts: number;
  /** The decoded payload (raw text if it is not valid JSON). */
  payload: unknown;
  /** The handler's decoded return value, once succeeded. */
  result: unknown;
  error: string | null;
  traceback: string | null;
  reason: string | null;
  createdAt: Date | null;
  enqueuedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** When a scheduled or retrying job becomes ready. */
  runAt: Date | null;
}

function loads(text: string | undefined): unknown {
  if (!text) {
    return null;
  }
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Epoch milliseconds as stored in a job hash → Date. */
export function fromMs(value: string | undefined): Date | null {
  if (!value) {
    return null;
  }
  const ms = Number(value);
  return Number.isFinite(ms) ? new Date(ms) : null;
}

/** Build a {@link JobInfo} from a job hash (HGETALL), like Python's `job_info`. */
export function jobInfo(queue: string, fields: Record<string, string>): JobInfo {
  return {
    id: fields.id ?? "",
    queue: fields.queue ?? queue,
    name: fields.name ?? "",
    state: fields.state ?? "unknown",
    priority: fields.priority ?? "",
    attempts: Number.parseInt(fields.attempts || "0", 10) || 0,
    payload: loads(fields.payload),
    result: loads(fields.result),
    error: fields.error || null,
    traceback: fields.traceback || null,
    reason: fields.reason || null,
    createdAt: fromMs(fields.created_at),
    enqueuedAt: fromMs(fields.enqueued_at),
    startedAt: fromMs(fields.started_at),
    finishedAt: fromMs(fields.finished_at),
    runAt: fromMs(fields.run_at),
  };
}
