// Throwaway PKI for the lab: a CA (trusted by agents and the benchmark
// client) and one serving certificate for every responder, valid for the
// loopback addresses, the lab's server addresses and both VIPs.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run } from "../../host/index.ts";

export interface LabCerts {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  ca: string;
  cert: string;
  key: string;
}

export const LAB_CERT_SANS = [
  "DNS:localhost",
  "DNS:kubernetes",
  "DNS:kubernetes.default.svc",
  "IP:127.0.0.1",
  "IP:::1",
  "IP:198.18.0.10",
  "IP:fd00:6b33::10",
  ...Array.from({ length: 9 }, (_, i) => [`IP:198.18.0.${11 + i}`, `IP:fd00:6b33::${11 + i}`]).flat(),
];

/** Makes a CA and a serving certificate in `dir` with `openssl` (P-256, valid 2 days). */
export async function makeLabCerts(dir: string): Promise<LabCerts> {
  await mkdir(dir, { recursive: true });
  const f = (n: string) => join(dir, n);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  await run(["openssl", "req", "-x509", ...ec, "-keyout", f("ca.key"), "-out", f("ca.crt"), "-days", "2", "-subj", "/CN=k3vip-lab-ca"]);
  await run(["openssl", "req", ...ec, "-keyout", f("server.key"), "-out", f("server.csr"), "-subj", "/CN=k3vip-lab-apiserver"]);
  await writeFile(
    f("server.ext"),
    [`subjectAltName=${LAB_CERT_SANS.join(",")}`, "basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature", "extendedKeyUsage=serverAuth"].join("\n") + "\n",
  );
  await run([
    "openssl", "x509", "-req", "-in", f("server.csr"), "-CA", f("ca.crt"), "-CAkey", f("ca.key"), "-CAcreateserial",
    "-out", f("server.crt"), "-days", "2", "-extfile", f("server.ext"),
  ]);
  const [ca, cert, key] = await Promise.all([readFile(f("ca.crt"), "utf8"), readFile(f("server.crt"), "utf8"), readFile(f("server.key"), "utf8")]);
  return { dir, caFile: f("ca.crt"), certFile: f("server.crt"), keyFile: f("server.key"), ca, cert, key };
}
