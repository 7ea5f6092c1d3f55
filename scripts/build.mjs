// Bundles the CLI into one ESM file each:
// - dist/k3vip.mjs: the whole CLI, the `k3vip` bin after `npm ci`.
// - dist/agent.mjs: only `k3vip agent` (src/cli/agent-main.ts), minified; the
//   image ships it as /opt/k3vip/k3vip.mjs. Every byte of a bundle stays in the
//   agent's memory as source text plus V8's parse data, and the agent runs on
//   Raspberry Pi servers next to etcd: see src/image/agent-entry.ts.
import { build } from "esbuild";

const common = {
  bundle: true,
  platform: "node",
  // The armv7 image runs Node 20.11: nothing newer may be required.
  target: "node20.11",
  format: "esm",
  sourcemap: false,
  legalComments: "none",
  banner: {
    // Some bundled CommonJS dependencies call require(); give them one.
    js: "#!/usr/bin/env node\nimport { createRequire as __k3vipCreateRequire } from 'node:module';\nconst require = __k3vipCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
};

/**
 * @kubernetes/client-node's modules have no import-time side effects (no
 * side-effect-only imports; checked for 1.4), but its package.json does not
 * say so ("sideEffects": false), so esbuild keeps every module its index
 * re-exports: all generated API clients and models, ws, tar… Declaring it
 * lets the agent bundle keep only what KubeConfig needs (~0.9 MB less).
 */
const clientNodePure = {
  name: "client-node-side-effect-free",
  setup(b) {
    b.onResolve({ filter: /./ }, async (args) => {
      if (args.pluginData === "pure") return undefined;
      const fromClientNode = args.importer.includes("/node_modules/@kubernetes/client-node/");
      if (!args.path.startsWith("@kubernetes/client-node") && !(fromClientNode && args.path.startsWith("."))) return undefined;
      const r = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: "pure" });
      return r.errors.length > 0 ? r : { ...r, sideEffects: false };
    });
  },
};

await Promise.all([
  build({ ...common, entryPoints: ["src/cli/main.ts"], outfile: "dist/k3vip.mjs" }),
  build({ ...common, entryPoints: ["src/cli/agent-main.ts"], outfile: "dist/agent.mjs", plugins: [clientNodePure], minify: true, metafile: process.env.K3VIP_BUILD_META === "1" }).then(async (r) => {
    if (r.metafile) (await import("node:fs")).writeFileSync("dist/agent.meta.json", JSON.stringify(r.metafile));
  }),
]);
