// Test PKI made with openssl: a CA, and leaf certificates signed by it with
// the SANs a test needs (the real thing k3s/etcd would present).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Leaf {
  cert: string;
  key: string;
  certPem: Buffer;
  keyPem: Buffer;
}

export class TestPki {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  private n = 0;

  constructor(name = "k3vip-test-ca", dir = mkdtempSync(join(tmpdir(), "k3vip-pki-"))) {
    this.dir = dir;
    this.caKey = join(dir, `${name}.key`);
    this.caCert = join(dir, `${name}.crt`);
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", this.caKey, "-out", this.caCert, "-days", "2", "-subj", `/CN=${name}`], { stdio: "ignore" });
  }

  get caPem(): Buffer {
    return readFileSync(this.caCert);
  }

  /** A leaf for `cn` with subjectAltNames like ["IP:127.0.0.1", "DNS:localhost"]. */
  leaf(cn: string, sans: string[], usage: "server" | "client" | "both" = "both"): Leaf {
    const base = join(this.dir, `leaf${++this.n}`);
    const ext = `${base}.ext`;
    const eku = usage === "server" ? "serverAuth" : usage === "client" ? "clientAuth" : "serverAuth,clientAuth";
    writeFileSync(ext, `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=${eku}\n${sans.length ? `subjectAltName=${sans.join(",")}\n` : ""}`);
    execFileSync("openssl", ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${base}.key`, "-out", `${base}.csr`, "-subj", `/CN=${cn}`], { stdio: "ignore" });
    execFileSync("openssl", ["x509", "-req", "-in", `${base}.csr`, "-CA", this.caCert, "-CAkey", this.caKey, "-CAcreateserial", "-out", `${base}.crt`, "-days", "2", "-extfile", ext], { stdio: "ignore" });
    return { cert: `${base}.crt`, key: `${base}.key`, certPem: readFileSync(`${base}.crt`), keyPem: readFileSync(`${base}.key`) };
  }
}
