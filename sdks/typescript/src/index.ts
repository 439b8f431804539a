/** Bananas client for TypeScript/Node: submit jobs, wait for results, cancel, pause queues. */
export {
  Client,
  DEFAULT_RETENTION,
  type ClientOptions,
  type ResultOptions,
  type Retention,
  type SubmitAndWaitOptions,
} from "./client";
export { connect, type Connection } from "./connection";
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
export {
  BananasError,
  ConfigError,
  InvalidJob,
  JobCancelled,
  JobWasCancelled,
  JobFailed,
  JobNotFound,
  JobTimeout,
  RedisAuthError,
  ResultTimeout,
  QueueFull,
  RedisUnavailable,
} from "./errors";
export { STATES, jobInfo, type JobInfo } from "./jobInfo";
export { GlobalKeys, LANES, PRIORITIES, QueueKeys, type Priority } from "./keys";
export { BlockingPool, MIN_BLOCK_MS, WAIT_CHUNK_MS } from "./results";
export { DEFAULT_PRIORITY, DEFAULT_QUEUE, Router, fnmatchcase, parseRoutes, routeMatches, type Route, type Routes } from "./routing";
export {
  CANCEL_LIST_TTL_SECONDS,
  LUA_DIR,
  SCRIPT_NAMES,
  SUBMIT_COMMAND,
  cancelCall,
  loadScript,
  pauseCall,
  scriptCommand,
  submitCall,
  waitCall,
  type ScriptCall,
  type ScriptName,
} from "./scripts";
export { MIN_SECRET_BYTES, SIGNATURE_VERSION, Signer, canonical, makeSigner, timeoutBits, type SigningOptions } from "./signing";
export { canonicalJson, compareCodePoints, defaultUniqueKey, formatFloat } from "./unique";
