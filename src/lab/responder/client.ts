// One HTTPS request from inside a lab namespace, for tests:
//   ip netns exec <client-ns> node --import tsx src/lab/responder/client.ts \
//     --ca ca.crt --url https://198.18.0.10:6443/whoami [--method PUT --body …]
//     [--header "authorization: Bearer x"] [--first-chunk]
// Prints one JSON line: {status, servedBy, body} or {error: "<code>"}.
// --first-chunk prints after the first body chunk and exits (watch streams).
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { parseArgs } from "node:util";
import { SERVED_BY_HEADER } from "./server.ts";

const { values } = parseArgs({
  options: {
    ca: { type: "string" },
    url: { type: "string" },
    method: { type: "string", default: "GET" },
    body: { type: "string" },
    header: { type: "string", multiple: true, default: [] },
    "first-chunk": { type: "boolean", default: false },
    "timeout-ms": { type: "string", default: "5000" },
  },
});

const headers: Record<string, string> = {};
for (const h of values.header ?? []) {
  const i = h.indexOf(":");
  headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
}
const print = (o: unknown) => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
  process.exit(0);
};

const req = request(values.url ?? "", {
  method: values.method ?? "GET",
  headers,
  ca: values.ca ? readFileSync(values.ca, "utf8") : undefined,
  agent: false,
  timeout: Number(values["timeout-ms"]),
});
req.on("response", (res) => {
  let body = "";
  res.setEncoding("utf8");
  res.on("data", (c: string) => {
    body += c;
    if (values["first-chunk"]) print({ status: res.statusCode, servedBy: res.headers[SERVED_BY_HEADER], body });
  });
  res.on("end", () => print({ status: res.statusCode, servedBy: res.headers[SERVED_BY_HEADER], body }));
});
req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
req.on("error", (e: NodeJS.ErrnoException) => print({ error: e.code ?? e.message }));
req.end(values.body);
