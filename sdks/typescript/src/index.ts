/** Bananas client for TypeScript/Node: submit jobs to Bananas workers and read their state. */
export { Client, type ClientOptions } from "./client";
export {
  DEFAULT_LIMITS,
  MAX_NAME_LENGTH,
  checkName,
  encodePayload,
  newJobId,
  prepare,
  type JobSpec,
  type Limits,
  type NewJob,
  type Payload,
  type SubmitOptions,
} from "./envelope";
export { BananasError, InvalidJob, JobNotFound, QueueFull, RedisUnavailable } from "./errors";
export { STATES, jobInfo, type JobInfo } from "./jobInfo";
export { GlobalKeys, PRIORITIES, QueueKeys, type Priority } from "./keys";
export { LUA_DIR, loadScript, submitCall, type ScriptCall } from "./scripts";
