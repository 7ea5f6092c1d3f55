// One lint setup, run by `npm test`. The restricted imports hold the
// architecture: side effects live in adapters and entry points only.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

const sideEffects = ["node:child_process", "node:dgram", "node:fs", "node:fs/promises", "node:net", "node:http", "node:https", "node:tls", "@kubernetes/client-node", "mysql2", "mysql2/promise", "pg"];
// Tests and test support: *.test.ts beside the code, testing/ folders, test/lab.
const tests = ["**/*.test.ts", "**/testing/**"];
const testSupport = [
  { group: ["**/testing/**", "**/testing/*.ts"], message: "test support (testing/) is for tests only" },
  { group: ["node:test", "node:assert", "node:assert/strict"], message: "node:test / node:assert are for tests only" },
];

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "install.sh", "out/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ["*.js", "*.mjs", "scripts/*.mjs"] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true, allowBoolean: true }],
    },
  },
  {
    // Test support stays out of production code (and so out of the bundles).
    files: ["src/**"],
    ignores: [...tests, "src/lab/**"],
    rules: { "no-restricted-imports": ["error", { patterns: testSupport }] },
  },
  {
    // Use cases and pure code reach the world only through ports: processes,
    // sockets, files and the Kubernetes client live in the adapters (src/host,
    // src/kube), the installer's two own adapters (fs.ts, datastore/check.ts),
    // the metrics endpoint, the image builder, the lab and the CLI.
    files: ["src/config/**", "src/net/**", "src/render/**", "src/agent/**", "src/installer/**"],
    ignores: [...tests, "src/installer/node-fs.ts", "src/installer/datastore/check.ts", "src/agent/metrics/server.ts"],
    rules: { "no-restricted-imports": ["error", { paths: sideEffects.map((name) => ({ name, message: "side effects belong in an adapter behind a port (src/host, src/kube)" })), patterns: testSupport } ] },
  },
  {
    // Pure core: no I/O of any kind, not even through a port's adapter module.
    files: ["src/config/**", "src/net/**", "src/render/**", "src/agent/election/**", "src/installer/plan.ts", "src/installer/layout.ts"],
    ignores: tests,
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: sideEffects.map((name) => ({ name, message: "pure core: put side effects behind a port in an adapter" })),
          patterns: [...testSupport, { group: ["node:*", "!node:path", "!node:crypto"], message: "pure core: no I/O" }, { group: ["**/node-fs.ts"], message: "pure core: no file system" }],
        },
      ],
    },
  },
  {
    files: ["**/*.test.ts", "**/testing/**", "test/**", "bench/**", "scripts/**"],
    rules: {
      "@typescript-eslint/no-floating-promises": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
  { files: ["**/*.js", "**/*.mjs"], ...tseslint.configs.disableTypeChecked },
  { files: ["**/*.js", "**/*.mjs"], languageOptions: { globals: globals.node } },
);
