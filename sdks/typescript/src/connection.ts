/**
 * Redis connections from a URL, with the same URL forms as Python's `bananas/connection.py`:
 * `redis://`, `rediss://` (TLS), `redis+sentinel://[user:pw@]host:port[,host:port...]/<master>[/db]`
 * (asks Sentinel for the primary, and again after a failover) and
 * `redis+cluster://[user:pw@]host:port[,host:port...]` (Redis Cluster: every script touches one
 * queue, so one slot). `rediss+sentinel` and `rediss+cluster` use TLS to the data nodes.
 */
import { Cluster, Redis, type RedisOptions } from "ioredis";

import { ConfigError } from "./errors";

/** A plain or Sentinel-backed connection, or a Redis Cluster client. */
export type Connection = Redis | Cluster;

interface Parsed {
  hosts: Array<{ host: string; port: number }>;
  username?: string;
  password?: string;
  path: string[];
  tls: boolean;
}

function parse(url: string, defaultPort: number): Parsed {
  const scheme = url.slice(0, url.indexOf("://"));
  const rest = url.slice(scheme.length + 3);
  const slash = rest.indexOf("/");
  const netloc = slash === -1 ? rest : rest.slice(0, slash);
  const path = (slash === -1 ? "" : rest.slice(slash + 1)).split("?")[0].split("/").filter(Boolean);
  const at = netloc.lastIndexOf("@");
  const auth = at === -1 ? "" : netloc.slice(0, at);
  const hosts = (at === -1 ? netloc : netloc.slice(at + 1)).split(",").map((entry) => {
    const colon = entry.lastIndexOf(":");
    const host = colon === -1 ? entry : entry.slice(0, colon);
    const port = colon === -1 ? defaultPort : Number(entry.slice(colon + 1));
    if (!Number.isInteger(port) || port <= 0 || port > 65535) {
      throw new ConfigError(`redis url: bad port in ${JSON.stringify(entry)}`);
    }
    return { host: host || "127.0.0.1", port };
  });
  const [user, ...pw] = auth.split(":");
  return {
    hosts,
    username: user ? decodeURIComponent(user) : undefined,
    password: pw.length > 0 && pw.join(":") ? decodeURIComponent(pw.join(":")) : undefined,
    path,
    tls: scheme.startsWith("rediss"),
  };
}

/**
 * A connection for `url`. `options` (timeouts, retries) apply to every data-node connection.
 * @throws {ConfigError} for a Sentinel URL without a master name, or a bad port.
 */
export function connect(url: string, options: RedisOptions): Connection {
  const scheme = url.slice(0, Math.max(0, url.indexOf("://")));
  if (scheme === "redis+sentinel" || scheme === "rediss+sentinel") {
    const p = parse(url, 26379);
    if (p.path.length === 0) {
      throw new ConfigError("redis url: a redis+sentinel URL names the master: redis+sentinel://host:26379/mymaster");
    }
    return new Redis({
      ...options,
      sentinels: p.hosts,
      name: p.path[0],
      db: p.path.length > 1 ? Number(p.path[1]) : 0,
      username: p.username,
      password: p.password,
      ...(p.tls ? { tls: {} } : {}),
    });
  }
  if (scheme === "redis+cluster" || scheme === "rediss+cluster") {
    const p = parse(url, 6379);
    return new Cluster(p.hosts, {
      redisOptions: { ...options, username: p.username, password: p.password, ...(p.tls ? { tls: {} } : {}) },
    });
  }
  return new Redis(url, options);
}
