// The fake Kubernetes API as a process:
//   node --import tsx src/lab/fakeapi/main.ts [--socket <path>] [--port <n>] [--host 127.0.0.1]
// Prints one JSON line {"url": …, "socket": …} once it listens; SIGTERM/SIGINT stop it.
import { parseArgs } from "node:util";
import { startFakeApi } from "./server.ts";

const { values } = parseArgs({
  options: {
    socket: { type: "string" },
    port: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    token: { type: "string", multiple: true },
  },
  strict: true,
});

const port = values.port === undefined ? undefined : Number(values.port);
if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
  process.stderr.write(`fakeapi: --port "${values.port}" is not a port number (0-65535; 0 = any free port)\n`);
  process.exit(2);
}
const api = await startFakeApi({
  ...(values.socket ? { socket: values.socket } : {}),
  ...(port !== undefined ? { port } : {}),
  host: values.host ?? "127.0.0.1",
  ...(values.token ? { tokens: values.token } : {}),
});
process.stdout.write(`${JSON.stringify({ url: api.url ?? null, socket: api.socket ?? null })}\n`);

for (const sig of ["SIGTERM", "SIGINT"] as const) {
  process.once(sig, () => {
    void api.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 500).unref();
  });
}
