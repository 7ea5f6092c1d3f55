import { fileURLToPath } from "node:url";
import type { Lab, LabNode, LabProcess } from "../netns/index.ts";
import type { LabCerts } from "./certs.ts";

export { startResponder, hasCarrier, SERVED_BY_HEADER, type Responder, type ResponderOptions } from "./server.ts";
export { makeLabCerts, LAB_CERT_SANS, type LabCerts } from "./certs.ts";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
const REPO = fileURLToPath(new URL("../../..", import.meta.url));

export interface ResponderProcessOptions {
  certs: LabCerts;
  upstreamSocket: string;
  port?: number;
  /** Gate API forwarding on this interface's carrier (default the node's interface); false = never gate. */
  uplink?: string | false;
  /** Milliseconds to wait for "LISTENING". Default 15000 (tsx compiles on first start). */
  startTimeoutMs?: number;
}

/**
 * Starts the responder for `node` inside its namespace and resolves once it
 * listens. Stop the returned process (SIGTERM/SIGKILL) to take this node's
 * "API server" down; call again to bring it back.
 */
export async function spawnResponder(lab: Lab, node: LabNode, opts: ResponderProcessOptions): Promise<LabProcess> {
  let ready: () => void = () => undefined;
  const listening = new Promise<void>((r) => (ready = r));
  const p = lab.spawn(
    node.ns,
    [
      process.execPath,
      "--import",
      "tsx",
      MAIN,
      "--name",
      node.name,
      "--cert",
      opts.certs.certFile,
      "--key",
      opts.certs.keyFile,
      "--upstream-socket",
      opts.upstreamSocket,
      "--port",
      String(opts.port ?? 6443),
      ...(opts.uplink === false ? [] : ["--uplink", opts.uplink ?? node.ifname]),
    ],
    { cwd: REPO, onLine: (l) => l.startsWith("LISTENING ") && ready() },
  );
  const timeoutMs = opts.startTimeoutMs ?? 15_000;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    listening.then(() => "ok" as const),
    p.exited.then(() => "exited" as const),
    new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (outcome !== "ok") {
    await p.stop(100);
    throw new Error(`responder for ${node.name} ${outcome === "exited" ? "exited" : `did not listen within ${timeoutMs} ms`}: ${p.output(10)}`);
  }
  return p;
}
