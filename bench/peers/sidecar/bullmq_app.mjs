// BullMQ peer: `node bullmq_app.mjs worker` or `node bullmq_app.mjs produce preload N | paced RATE SECONDS
// | bulk N BATCH` (bulk: one queue.addBulk per BATCH jobs).
// Same probe as the Python peers (see probe.py): CLOCK_MONOTONIC stamps in ns via
// process.hrtime.bigint(), which reads the same clock as Python's time.monotonic_ns() on Linux.
import { Queue, Worker } from "bullmq";
import IORedis from "ioredis";

const url = new URL(process.env.BENCH_REDIS_URL);
const connection = { host: url.hostname, port: Number(url.port), maxRetriesPerRequest: null };
const queueName = process.env.BENCH_QUEUE || "bench";
const concurrency = Number(process.env.BENCH_CONCURRENCY || "100");
const marks = new Set((process.env.BENCH_MARKS || "").split(",").filter(Boolean).map(Number));

function makeProbe() {
  const client = new IORedis(connection);
  return async function record(sentNs) {
    const started = process.hrtime.bigint();
    let count;
    if (sentNs !== "0") {
      const res = await client.pipeline().rpush("bench:lat", (started - BigInt(sentNs)).toString())
        .incr("bench:done").exec();
      count = res[1][1];
    } else {
      count = await client.incr("bench:done");
    }
    if (marks.has(count)) await client.set(`bench:mark:${count}`, process.hrtime.bigint().toString());
  };
}

function runWorker() {
  const record = makeProbe();
  const worker = new Worker(queueName, async (job) => record(job.data.sent_ns), {
    connection, concurrency, removeOnComplete: { count: 0 }, removeOnFail: { count: 1000 },
  });
  worker.on("error", (err) => console.error("worker error", err));
  const stop = async () => { await worker.close(true); process.exit(0); };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function runBulk(count, batch) {
  const queue = new Queue(queueName, { connection });
  await queue.waitUntilReady();
  const begin = process.hrtime.bigint();
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start);
    await queue.addBulk(Array.from({ length: n }, () => ({ name: "noop", data: { sent_ns: "0" } })));
  }
  const seconds = Number(process.hrtime.bigint() - begin) / 1e9;
  console.log(JSON.stringify({ mode: "bulk", sent: count, seconds }));
  await queue.close();
}

async function runProducer(argv) {
  const [mode, a, b] = argv;
  if (mode === "bulk") return runBulk(Number(a), Number(b));
  const count = mode === "paced" ? Math.floor(Number(a) * Number(b)) : Number(a);
  const intervalNs = mode === "paced" ? BigInt(Math.round(1e9 / Number(a))) : 0n;
  if (!(mode === "preload" || mode === "paced") || !Number.isFinite(count)) {
    console.error("usage: produce preload N | paced RATE SECONDS");
    process.exit(2);
  }
  const queue = new Queue(queueName, { connection });
  await queue.waitUntilReady();
  const begin = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    if (intervalNs) {
      const delayNs = begin + BigInt(i) * intervalNs - process.hrtime.bigint();
      if (delayNs > 0n) await sleep(Number(delayNs) / 1e6);
      await queue.add("noop", { sent_ns: process.hrtime.bigint().toString() });
    } else {
      await queue.add("noop", { sent_ns: "0" });
    }
  }
  const seconds = Number(process.hrtime.bigint() - begin) / 1e9;
  console.log(JSON.stringify({ mode, sent: count, seconds }));
  await queue.close();
}

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === "worker") runWorker();
else if (cmd === "produce") await runProducer(rest);
else { console.error("usage: bullmq_app.mjs worker | produce ..."); process.exit(2); }
