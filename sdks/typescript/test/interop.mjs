// Command-line bridge used by tests/integration/test_cross_language.py: the Python suite
// drives the TypeScript client through it and reads its answers as JSON on stdout.
//   node test/interop.mjs submit <url> '<JSON list of job specs>'    → JSON list of ids
//   node test/interop.mjs submit-signed <url> '<specs>' '<{"keys": {kid: secret}, "signWith": kid}>' → ids
//   node test/interop.mjs canonical < '[[namespace, queue, id, name, priority, maxRetries, timeout, issuedAt, kid, payload]]'
//                                                                    → the signed bytes of each, base64
//   node test/interop.mjs get <url> <job id> [queue]                 → JSON job info
//   node test/interop.mjs result <url> <job id> <timeout ms> [queue] → {value} or {kind: error class, ...}
//   node test/interop.mjs cancel <url> <job id>                      → the state afterwards
//   node test/interop.mjs pause|resume|paused <url> <queue>          → true or false
//   node test/interop.mjs check < <JSON list of job specs>           → JSON list of true/error
//   node test/interop.mjs unique < <JSON list of [name, payload]>    → [[default unique key, payload JSON]]
//   node test/interop.mjs route < '{"routes": [[pattern, queue]], "names": [...]}' → queues
//   node test/interop.mjs fnmatch < '{"patterns": [...], "names": [...]}' → rows of booleans
// Needs `npm run build` first (it imports the built package).
import {
  BananasError,
  Client,
  DEFAULT_LIMITS,
  InvalidJob,
  JobNotFound,
  Router,
  canonical,
  fnmatchcase,
  prepare,
} from "bananas-client";

async function withClient(url, work, options = {}) {
  const client = new Client({ url, socketTimeoutMs: 5000, ...options });
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

function check(specs) {
  return specs.map(({ name, payload, ...options }) => {
    try {
      prepare(name, payload, options, DEFAULT_LIMITS);
      return true;
    } catch (err) {
      if (err instanceof InvalidJob) return err.message;
      throw err;
    }
  });
}

/** A Bananas error as JSON: its class (kind), message and own fields (jobId, error, traceback). */
function described(err) {
  if (!(err instanceof BananasError)) throw err;
  return { ...err, kind: err.name, message: err.message };
}

async function result(client, [jobId, timeoutMs, queue]) {
  try {
    return { value: await client.getResult(jobId, { timeoutMs: Number(timeoutMs), queue }) };
  } catch (err) {
    return described(err);
  }
}

async function main([command, url, ...args]) {
  switch (command) {
    case "submit":
      return withClient(url, (client) => client.submitJobs(JSON.parse(args[0])));
    case "submit-signed":
      return withClient(url, (client) => client.submitJobs(JSON.parse(args[0])), { signing: JSON.parse(args[1]) });
    case "get":
      return withClient(url, async (client) => {
        try {
          return await client.getJob(args[0], args[1] === undefined ? {} : { queue: args[1] });
        } catch (err) {
          if (err instanceof JobNotFound) return { notFound: err.message };
          throw err;
        }
      });
    case "result":
      return withClient(url, (client) => result(client, args));
    case "cancel":
      return withClient(url, (client) => client.cancel(args[0]).catch(described));
    case "pause":
      return withClient(url, (client) => client.pause(args[0]));
    case "resume":
      return withClient(url, (client) => client.resume(args[0]));
    case "paused":
      return withClient(url, (client) => client.isPaused(args[0]));
    // The commands below read their input on stdin: it may be larger than a command line allows.
    case "check":
      return check(await readStdin());
    case "canonical":
      return (await readStdin()).map((fields) => canonical(...fields).toString("base64"));
    case "unique":
      return (await readStdin()).map(([name, payload]) => {
        const job = prepare(name, payload, { uniqueFor: 60 }, DEFAULT_LIMITS);
        return [job.uniqueKey, job.payload];
      });
    case "route": {
      const { routes, names } = await readStdin();
      const router = new Router(routes);
      return names.map((name) => router.resolve(name)[0]);
    }
    case "fnmatch": {
      const { patterns, names } = await readStdin();
      return patterns.map((pattern) => names.map((name) => fnmatchcase(name, pattern)));
    }
    default:
      throw new Error(`unknown command ${command}; see the comment at the top of interop.mjs`);
  }
}

process.stdout.write(JSON.stringify(await main(process.argv.slice(2))) + "\n");
