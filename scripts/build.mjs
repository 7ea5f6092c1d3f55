// Bundles the CLI (and so the agent) into one ESM file: dist/k3vip.mjs.
// The same file is the `k3vip` bin after `npm ci` and the agent inside the image.
import { build } from "esbuild";

await build({
  entryPoints: ["src/cli/main.ts"],
  outfile: "dist/k3vip.mjs",
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
});
