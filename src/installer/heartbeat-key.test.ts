// Where the heartbeat key comes from: every server must arrive at the same key
// without talking to the others, and a re-run must not change it.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { keptKey, keyFromToken, resolveHeartbeatKey, tokenSecret } from "./heartbeat-key.ts";
import { NodeFs } from "./node-fs.ts";
import { tempRoots } from "./testing/tree.ts";

const tmpRoot = tempRoots("k3vip-hbkey-");
const FULL = "K10abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567::server:s3cret-pass";

describe("heartbeat key from the cluster token", () => {
  it("a full K10 token and the short token it was made from give the same key", () => {
    assert.equal(tokenSecret(FULL), "s3cret-pass");
    assert.equal(tokenSecret("s3cret-pass"), "s3cret-pass");
    assert.equal(tokenSecret(`${FULL}\n`), "s3cret-pass");
    assert.equal(keyFromToken(FULL), keyFromToken("s3cret-pass"));
    assert.equal(keyFromToken("s3cret-pass"), createHash("sha256").update("k3vip-heartbeat-key-v1:s3cret-pass").digest("hex"));
    assert.notEqual(keyFromToken("other"), keyFromToken("s3cret-pass"));
  });
  it("reads back only a valid key from an installed manifest", () => {
    const k = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    assert.equal(keptKey(`stringData:\n  K3VIP_BGP_PEERS: ""\n  K3VIP_HEARTBEAT_KEY: "${k}"\n`), k);
    assert.equal(keptKey(`  K3VIP_HEARTBEAT_KEY: ""\n`), undefined);
    assert.equal(keptKey(`  K3VIP_HEARTBEAT_KEY: "abcd"\n`), undefined, "too short: not kept");
    assert.equal(keptKey(`            - name: K3VIP_HEARTBEAT_KEY\n`), undefined);
  });
});

describe("resolveHeartbeatKey", () => {
  const fs = new NodeFs();
  const paths = (root: string) => ({ tokenFile: join(root, "var/lib/rancher/k3s/server/token"), manifest: join(root, "var/lib/rancher/k3s/server/manifests/k3vip.yaml"), root });
  const random = () => "ff".repeat(32);
  it("given > token option > token file > kept > random", async () => {
    const root = tmpRoot();
    const p = paths(root);
    assert.deepEqual(await resolveHeartbeatKey(fs, { given: "", token: undefined, ...p, random }), { key: random(), from: "random" });
    mkdirSync(join(root, "var/lib/rancher/k3s/server/manifests"), { recursive: true });
    writeFileSync(p.manifest, `  K3VIP_HEARTBEAT_KEY: "${"ab".repeat(32)}"\n`);
    assert.deepEqual(await resolveHeartbeatKey(fs, { given: "", token: undefined, ...p, random }), { key: "ab".repeat(32), from: "kept" });
    writeFileSync(p.tokenFile, `${FULL}\n`);
    assert.deepEqual(await resolveHeartbeatKey(fs, { given: "", token: undefined, ...p, random }), { key: keyFromToken(FULL), from: "token" });
    assert.deepEqual(await resolveHeartbeatKey(fs, { given: "", token: "joined-with", ...p, random }), { key: keyFromToken("joined-with"), from: "token" });
    assert.deepEqual(await resolveHeartbeatKey(fs, { given: "cd".repeat(16), token: "joined-with", ...p, random }), { key: "cd".repeat(16), from: "given" });
  });
  it("a token path that is a directory or holds two words is no token", async () => {
    const root = tmpRoot();
    const p = paths(root);
    mkdirSync(p.tokenFile, { recursive: true });
    assert.equal((await resolveHeartbeatKey(fs, { given: "", token: undefined, ...p, random })).from, "random");
    const root2 = tmpRoot();
    const p2 = paths(root2);
    mkdirSync(join(root2, "var/lib/rancher/k3s/server"), { recursive: true });
    writeFileSync(p2.tokenFile, "two words\n");
    assert.equal((await resolveHeartbeatKey(fs, { given: "", token: undefined, ...p2, random })).from, "random");
  });
});
