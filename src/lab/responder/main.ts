// Entry for one responder process, run inside a server namespace:
//   ip netns exec <ns> node --import tsx src/lab/responder/main.ts \
//     --name srv1 --cert server.crt --key server.key --upstream-socket /tmp/…/api.sock
// Prints "LISTENING <port>" once it accepts connections.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { startResponder } from "./server.ts";

const { values } = parseArgs({
  options: {
    name: { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    "upstream-socket": { type: "string" },
    port: { type: "string", default: "6443" },
    host: { type: "string", default: "::" },
    uplink: { type: "string" },
  },
  strict: true,
});

for (const k of ["name", "cert", "key", "upstream-socket"] as const) {
  if (!values[k]) {
    process.stderr.write(`responder: --${k} is required\n`);
    process.exit(2);
  }
}

const [cert, key] = await Promise.all([readFile(values.cert as string, "utf8"), readFile(values.key as string, "utf8")]);
const responder = await startResponder({
  name: values.name as string,
  cert,
  key,
  upstreamSocket: values["upstream-socket"] as string,
  port: Number(values.port),
  host: values.host ?? "::",
  ...(values.uplink ? { uplink: values.uplink } : {}),
});
process.stdout.write(`LISTENING ${responder.port}\n`);

for (const sig of ["SIGTERM", "SIGINT"] as const) {
  process.once(sig, () => {
    void responder.close().then(() => process.exit(0));
    // Open watch streams must not keep a "dead" API server alive.
    setTimeout(() => process.exit(0), 500).unref();
  });
}
