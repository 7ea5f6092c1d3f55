// The benchmark's client, run in the client namespace: every --interval-ms
// it starts one logical request to the VIP over a NEW connection (so a moved
// VIP is seen at once, and no pooled socket hides an outage). A logical
// request retries failed attempts (each --attempt-timeout-ms) until
// --budget-ms, like a client-go client would. One JSON line per logical
// request: {"s":start,"e":end,"by":"srv2"|null,"a":attempts,"err":"ECONNREFUSED"}
// (times in epoch ms, comparable with the benchmark process). Stops on
// SIGTERM/SIGINT, after in-flight requests finish.
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { parseArgs } from "node:util";
import { SERVED_BY_HEADER } from "./server.ts";

export interface PingRecord {
  /** Epoch ms the logical request started. */
  s: number;
  /** Epoch ms it finished (success or given up). */
  e: number;
  /** Server that answered; null when every attempt failed. */
  by: string | null;
  /** Attempts made. */
  a: number;
  /** Last error code, when an attempt failed. */
  err?: string;
}

const { values } = parseArgs({
  options: {
    ca: { type: "string" },
    url: { type: "string" },
    "interval-ms": { type: "string", default: "10" },
    "attempt-timeout-ms": { type: "string", default: "500" },
    "budget-ms": { type: "string", default: "2000" },
  },
});

const ca = values.ca ? readFileSync(values.ca, "utf8") : undefined;
const url = new URL(values.url ?? "https://198.18.0.10:6443/whoami");
const intervalMs = Number(values["interval-ms"]);
const attemptTimeoutMs = Number(values["attempt-timeout-ms"]);
const budgetMs = Number(values["budget-ms"]);

function attempt(): Promise<{ by: string } | { err: string }> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, ca, timeout: attemptTimeoutMs, headers: { connection: "close" } }, (res) => {
      res.resume();
      res.on("end", () => {
        const by = res.headers[SERVED_BY_HEADER];
        resolve(res.statusCode === 200 && typeof by === "string" ? { by } : { err: `HTTP ${res.statusCode}` });
      });
      res.on("error", (e: NodeJS.ErrnoException) => resolve({ err: e.code ?? "response error" }));
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
    req.on("error", (e: NodeJS.ErrnoException) => resolve({ err: e.code ?? e.message }));
    req.end();
  });
}

let inFlight = 0;
let stopping = false;

async function logical(): Promise<void> {
  inFlight++;
  const s = Date.now();
  let a = 0;
  let err: string | undefined;
  let by: string | null = null;
  while (Date.now() - s < budgetMs) {
    a++;
    const r = await attempt();
    if ("by" in r) {
      by = r.by;
      break;
    }
    err = r.err;
    // A refused connection returns at once: don't spin.
    await new Promise((res) => setTimeout(res, 20));
  }
  const rec: PingRecord = { s, e: Date.now(), by, a, ...(by === null && err ? { err } : {}) };
  process.stdout.write(`${JSON.stringify(rec)}\n`);
  inFlight--;
  if (stopping && inFlight === 0) process.exit(0);
}

const timer = setInterval(() => void logical(), intervalMs);
const stop = () => {
  if (stopping) return;
  stopping = true;
  clearInterval(timer);
  if (inFlight === 0) process.exit(0);
  setTimeout(() => process.exit(0), budgetMs + 500).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stderr.write(`pinger: ${url.href} every ${intervalMs} ms\n`);
