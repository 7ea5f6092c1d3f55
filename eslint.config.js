// One lint setup, run by `npm test`. The restricted imports hold the
// architecture: side effects live in adapters and entry points only.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

const sideEffects = ["node:child_process", "node:dgram", "@kubernetes/client-node"];

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
    // Pure core: no processes, sockets or Kubernetes client.
    files: ["src/config/**", "src/render/**", "src/agent/election/**", "src/agent/bgp/codec*.ts"],
    rules: {
      "no-restricted-imports": ["error", { paths: [...sideEffects, "node:fs", "node:fs/promises", "node:net"].map((name) => ({ name, message: "pure core: put side effects behind a port in an adapter" })) }],
    },
  },
  {
    files: ["**/*.test.ts", "test/**", "bench/**", "scripts/**"],
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
