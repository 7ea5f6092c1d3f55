// The in-namespace sampler: one long-lived process per server namespace
// (`ip netns exec <ns> node --import tsx sampler.ts …`), so the benchmark
// sees each server from where it stands without forking `ip` every 10 ms.
// Every --interval-ms it prints one line `t holds reach ready`:
//   t      epoch ms (the host's clock: comparable with the pinger and the benchmark)
//   holds  1 when an interface of this namespace carries the VIP (getifaddrs, no fork)
//   reach  1 when this node's API server forwarded an API call for this node's
//          token within --fresh-ms and the last such call succeeded
//   ready  1 when the agent's /readyz answered 200 within the last second
//          (polled every 250 ms), so a trial can wait for a restarted agent
// The API probe is a GET /version through the node's own API server with the
// node's bearer token, so it meets every fault the node's agent would: its API
// server dead, its cable pulled, its token cut off, a brown-out or 5xx. At most
// one probe is in flight; a hung one counts as unreachable once it is older
// than --fresh-ms. Stops on SIGTERM/SIGINT.
import { readFileSync } from "node:fs";
import { get } from "node:http";
import { Agent, request } from "node:https";
import { networkInterfaces } from "node:os";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    vip: { type: "string" },
    ca: { type: "string" },
    token: { type: "string" },
    url: { type: "string", default: "https://127.0.0.1:6443/version" },
    "interval-ms": { type: "string", default: "10" },
    "fresh-ms": { type: "string", default: "250" },
    "ready-url": { type: "string", default: "http://127.0.0.1:2112/readyz" },
  },
});
const vip = values.vip ?? "";
const intervalMs = Number(values["interval-ms"]);
const freshMs = Number(values["fresh-ms"]);
const url = new URL(values.url ?? "");
const ca = values.ca ? readFileSync(values.ca, "utf8") : undefined;
// Keep-alive: one TLS handshake, then each probe is a request on the open connection.
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function holds(): boolean {
  for (const addrs of Object.values(networkInterfaces())) if (addrs?.some((a) => a.address === vip)) return true;
  return false;
}

let lastOkAt = -Infinity;
let lastFailed = true;
let inFlightSince: number | undefined;

function probe(): void {
  if (inFlightSince !== undefined) return;
  inFlightSince = Date.now();
  const done = (ok: boolean) => {
    if (inFlightSince === undefined) return;
    inFlightSince = undefined;
    lastFailed = !ok;
    if (ok) lastOkAt = Date.now();
  };
  const req = request(url, { agent, ca, timeout: 1000, headers: { authorization: `Bearer ${values.token ?? ""}` } }, (res) => {
    res.resume();
    res.on("end", () => done(res.statusCode === 200));
    res.on("error", () => done(false));
  });
  req.on("timeout", () => req.destroy(new Error("timeout")));
  req.on("error", () => done(false));
  req.end();
}

function reach(now: number): boolean {
  if (lastFailed) return false;
  if (inFlightSince !== undefined && now - inFlightSince > freshMs) return false;
  return now - lastOkAt <= freshMs;
}

let readyAt = -Infinity;
function probeReady(): void {
  const req = get(values["ready-url"] ?? "", { timeout: 500 }, (res) => {
    res.resume();
    if (res.statusCode === 200) readyAt = Date.now();
  });
  req.on("timeout", () => req.destroy());
  req.on("error", () => undefined);
}

const timer = setInterval(() => {
  const now = Date.now();
  process.stdout.write(`${now} ${holds() ? 1 : 0} ${reach(now) ? 1 : 0} ${now - readyAt <= 1000 ? 1 : 0}\n`);
  probe();
}, intervalMs);
const readyTimer = setInterval(probeReady, 250);
const stop = () => {
  clearInterval(timer);
  clearInterval(readyTimer);
  agent.destroy();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stderr.write(`sampler: ${vip} every ${intervalMs} ms\n`);
