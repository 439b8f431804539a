/**
 * Which queue and priority a job goes to, as `bananas/routing.py` decides it:
 *
 * 1. the `queue` the caller passed;
 * 2. the first route (in the order given) whose pattern matches the job name: exact names
 *    and `fnmatch` globs such as `image.*` (`*`, `?`, `[seq]`, `[!seq]`, case-sensitive);
 * 3. `"default"`.
 *
 * The priority is the caller's, else `"normal"`. (Python clients that import the handler
 * modules also apply `@job(queue=, priority=)` defaults; this client cannot see them.)
 */
import { checkName } from "./envelope";
import { ConfigError, InvalidJob } from "./errors";
import type { Priority } from "./keys";

export const DEFAULT_QUEUE = "default";
export const DEFAULT_PRIORITY: Priority = "normal";

/** Routes: pattern → queue, as the YAML `routes:` section; or `[pattern, queue]` pairs. */
export type Routes = Record<string, string> | Iterable<readonly [string, string]>;

/** Jobs whose name matches `pattern` go to `queue`. */
export interface Route {
  readonly pattern: string;
  readonly queue: string;
}

function codeOf(c: string | undefined): number {
  return c === undefined ? -1 : c.codePointAt(0)!;
}

/**
 * A class body (between `[` and `]`) split at its range hyphens the way Python's
 * `fnmatch.translate` splits it — reversed ranges dropped, hyphens inside a chunk literal —
 * so that odd classes such as `[b-a!]` (which Python reads as "any character") agree too.
 */
function classChunks(body: string[]): string[][] {
  if (!body.includes("-")) return [body];
  const chunks: string[][] = [];
  let i = 0;
  for (let k = body[0] === "!" ? 2 : 1; ; k += 3) {
    k = body.indexOf("-", k);
    if (k < 0) break;
    chunks.push(body.slice(i, k));
    i = k + 1;
  }
  if (i < body.length) chunks.push(body.slice(i));
  else chunks[chunks.length - 1].push("-");
  for (let m = chunks.length - 1; m > 0; m--) {
    if (codeOf(chunks[m - 1].at(-1)) > codeOf(chunks[m][0])) {
      chunks[m - 1] = [...chunks[m - 1].slice(0, -1), ...chunks[m].slice(1)];
      chunks.splice(m, 1);
    }
  }
  return chunks;
}

/** Does character `c` belong to the class whose body (between `[` and `]`) is `body`? */
function inClass(body: string[], c: string): boolean {
  const chunks = classChunks(body);
  if (chunks.length === 1 && chunks[0].length === 0) return false; // empty: matches nothing
  if (chunks.length === 1 && chunks[0].length === 1 && chunks[0][0] === "!") return true; // only "!" left: anything
  const negated = chunks[0][0] === "!";
  if (negated) chunks[0] = chunks[0].slice(1);
  const code = codeOf(c);
  let member = chunks.some((chunk) => chunk.includes(c));
  for (let m = 1; m < chunks.length && !member; m++) {
    // Between two chunks a range; after an empty first chunk the hyphen is a literal.
    member = chunks[m - 1].length === 0 ? c === "-" : codeOf(chunks[m - 1].at(-1)) <= code && code <= codeOf(chunks[m][0]);
  }
  return member !== negated;
}

/** Index just past the `]` closing the class opened at `start` (a `[`), or -1 if none. */
function classEnd(pattern: string[], start: number): number {
  let j = start + 1;
  if (pattern[j] === "!") j++;
  if (pattern[j] === "]") j++; // a `]` first in the set is a member
  while (j < pattern.length && pattern[j] !== "]") j++;
  return j < pattern.length ? j + 1 : -1;
}

/** Python's `fnmatch.fnmatchcase(name, pattern)`, by backtracking over `*`. */
export function fnmatchcase(name: string, pattern: string): boolean {
  const text = [...name];
  const pat = [...pattern];
  let t = 0;
  let p = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    const step = matchOne(pat, p, text[t]);
    if (step > 0) {
      p += step;
      t++;
    } else if (pat[p] === "*") {
      starP = ++p;
      starT = t;
    } else if (starP >= 0) {
      p = starP;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (pat[p] === "*") p++;
  return p === pat.length;
}

/** Pattern characters consumed when `pat[p]` matches character `c`; 0 when it does not. */
function matchOne(pat: string[], p: number, c: string): number {
  const token = pat[p];
  if (token === undefined || token === "*") return 0;
  if (token === "?") return 1;
  if (token === "[") {
    const end = classEnd(pat, p);
    if (end < 0) return c === "[" ? 1 : 0; // an unclosed `[` is literal
    return inClass(pat.slice(p + 1, end - 1), c) ? end - p : 0;
  }
  return token === c ? 1 : 0;
}

const GLOB_CHARS = /[*?[]/;

/** Does route `route` send job `name` to its queue? */
export function routeMatches(route: Route, name: string): boolean {
  return GLOB_CHARS.test(route.pattern) ? fnmatchcase(name, route.pattern) : name === route.pattern;
}

/**
 * Routes from an object (its key order is kept — but JavaScript puts integer-like keys such
 * as "42" first; use pairs for those) or from `[pattern, queue]` pairs.
 * @throws {ConfigError} naming the pattern for an empty pattern or a bad queue name.
 */
export function parseRoutes(routes: Routes): Route[] {
  const pairs = Symbol.iterator in routes ? [...(routes as Iterable<readonly [string, string]>)] : Object.entries(routes);
  return pairs.map(([pattern, queue]) => {
    if (typeof pattern !== "string" || pattern === "") {
      throw new ConfigError(`routes: pattern ${JSON.stringify(pattern)} must be a non-empty string`);
    }
    try {
      return { pattern, queue: checkName("queue", queue) };
    } catch (err) {
      if (err instanceof InvalidJob) throw new ConfigError(`routes.${pattern}: ${err.message}`);
      throw err;
    }
  });
}

/** Resolves the queue and priority of a submission (see the module comment). */
export class Router {
  readonly routes: readonly Route[];
  private readonly cache = new Map<string, string | null>();

  constructor(routes: Routes = []) {
    this.routes = parseRoutes(routes);
  }

  /** `[queue, priority]` for job `name`; the caller's own values win. */
  resolve(name: string, queue?: string | null, priority?: Priority | null): [string, Priority] {
    return [queue || this.routed(name) || DEFAULT_QUEUE, priority || DEFAULT_PRIORITY];
  }

  private routed(name: string): string | null {
    let queue = this.cache.get(name);
    if (queue === undefined) {
      queue = this.routes.find((route) => routeMatches(route, name))?.queue ?? null;
      if (this.cache.size < 10_000) this.cache.set(name, queue); // names are few; bounded anyway
    }
    return queue;
  }
}
