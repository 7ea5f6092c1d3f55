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

/** openssl's GeneralizedTime for `openssl ca -startdate/-enddate`. */
function asn1Time(ms: number): string {
  return `${new Date(ms).toISOString().replace(/[-:T]/g, "").slice(0, 14)}Z`;
}

/**
 * Makes a CA and a serving certificate in `dir` with `openssl` (P-256),
 * valid from 2 days ago to 3 days ahead: an agent whose wall clock is
 * stepped back (bench:chaos's clock fault) must not find a certificate made
 * a minute ago "not yet valid", as a real cluster's would not be.
 * `openssl ca`, because `req -x509` and `x509 -req` of OpenSSL 3.0 cannot
 * set the start date.
 */
export async function makeLabCerts(dir: string): Promise<LabCerts> {
  await mkdir(dir, { recursive: true });
  const f = (n: string) => join(dir, n);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  const now = Date.now();
  const dates = ["-startdate", asn1Time(now - 2 * 86_400_000), "-enddate", asn1Time(now + 3 * 86_400_000)];
  await writeFile(f("index.txt"), "");
  await writeFile(f("serial"), "01\n");
  await writeFile(
    f("ca.cnf"),
    [
      "[ca]",
      "default_ca = lab",
      "[lab]",
      `database = ${f("index.txt")}`,
      `new_certs_dir = ${dir}`,
      `serial = ${f("serial")}`,
      "default_md = sha256",
      "policy = any",
      "unique_subject = no",
      "[any]",
      "commonName = supplied",
      "[v3_ca]",
      "basicConstraints = critical,CA:TRUE",
      "keyUsage = critical,keyCertSign,cRLSign",
      "subjectKeyIdentifier = hash",
      "[server]",
      `subjectAltName = ${LAB_CERT_SANS.join(",")}`,
      "basicConstraints = critical,CA:FALSE",
      "keyUsage = critical,digitalSignature",
      "extendedKeyUsage = serverAuth",
      "",
    ].join("\n"),
  );
  const ca = ["openssl", "ca", "-batch", "-notext", "-config", f("ca.cnf"), ...dates];
  await run(["openssl", "req", "-new", ...ec, "-keyout", f("ca.key"), "-out", f("ca.csr"), "-subj", "/CN=k3vip-lab-ca"]);
  await run([...ca, "-selfsign", "-keyfile", f("ca.key"), "-in", f("ca.csr"), "-out", f("ca.crt"), "-extensions", "v3_ca"]);
  await run(["openssl", "req", "-new", ...ec, "-keyout", f("server.key"), "-out", f("server.csr"), "-subj", "/CN=k3vip-lab-apiserver"]);
  await run([...ca, "-cert", f("ca.crt"), "-keyfile", f("ca.key"), "-in", f("server.csr"), "-out", f("server.crt"), "-extensions", "server"]);
  const [caPem, cert, key] = await Promise.all([readFile(f("ca.crt"), "utf8"), readFile(f("server.crt"), "utf8"), readFile(f("server.key"), "utf8")]);
  return { dir, caFile: f("ca.crt"), certFile: f("server.crt"), keyFile: f("server.key"), ca: caPem, cert, key };
}
