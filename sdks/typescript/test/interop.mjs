// Command-line bridge used by tests/integration/test_cross_language.py: the Python suite
// drives the TypeScript client through it and reads its answers as JSON on stdout.
//   node test/interop.mjs submit <url> '<JSON list of job specs>'   → JSON list of ids
//   node test/interop.mjs get <url> <job id> [queue]                → JSON job info
//   node test/interop.mjs check < <JSON list of job specs>          → JSON list of true/error
// Needs `npm run build` first (it imports the built package).
import { Client, DEFAULT_LIMITS, InvalidJob, JobNotFound, prepare } from "bananas-client";

async function withClient(url, work) {
  const client = new Client({ url, socketTimeoutMs: 5000 });
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
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

async function main([command, ...args]) {
  switch (command) {
    case "submit":
      return withClient(args[0], (client) => client.submitJobs(JSON.parse(args[1])));
    case "get":
      return withClient(args[0], async (client) => {
        try {
          return await client.getJob(args[1], args[2] === undefined ? {} : { queue: args[2] });
        } catch (err) {
          if (err instanceof JobNotFound) return { notFound: err.message };
          throw err;
        }
      });
    case "check": // on stdin: the specs may be larger than a command line allows
      return check(JSON.parse(await readStdin()));
    default:
      throw new Error(`unknown command ${command}; use submit, get or check`);
  }
}

process.stdout.write(JSON.stringify(await main(process.argv.slice(2))) + "\n");
