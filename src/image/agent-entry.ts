// How the agent is started, in one place: the image's ENTRYPOINT and the
// Dockerfile, the DaemonSet/static Pod `command` (src/render), and the lab
// harness that benchmarks the agent (src/lab/cluster) all use these, so the
// benchmark measures exactly what ships. No imports: render and the lab
// depend on this file alone.

/** Where the image puts Node and the agent bundle. */
export const NODE_PATH = "/usr/local/bin/node";
export const AGENT_PATH = "/opt/k3vip/k3vip.mjs";

/**
 * `k3vip` on the image's PATH, a link to AGENT_PATH (which starts with
 * `#!NODE_PATH`): for running the image by hand. `ctr run IMAGE ID ARG…`
 * replaces ENTRYPOINT and CMD alike (`ctr run IMAGE ID --help` execs
 * "--help"), so the command must come first: `ctr run --rm IMAGE ID k3vip
 * agent --help`. The DaemonSet never uses it: it runs AGENT_COMMAND.
 */
export const CLI_LINK = "/usr/local/bin/k3vip";

/** The bundle the image ships as AGENT_PATH (scripts/build.mjs), relative to the package root. */
export const AGENT_BUNDLE = "dist/agent.mjs";

/**
 * Node flags for the agent, measured with `npm run bench:failover` (steady
 * state RSS, 3 agents) and `npm run bench:image` (runc); see src/image/README.md.
 * The agent is idle almost all the time (a Lease renew every 2 s, a probe,
 * a scrape), so V8's optimizing tiers and a large young generation buy
 * nothing but memory (the compilers' own code pages, their code and
 * feedback, a 16 MiB young generation that fills before each scavenge).
 * - --no-opt --no-maglev --no-sparkplug: Ignition (the interpreter) only.
 *   Saves ~3 MiB at steady state, like --jitless, but unlike --jitless it
 *   keeps WebAssembly, which Node's fetch (undici's llhttp) needs, and
 *   prints no warning. A renew costs well under a millisecond of CPU either way.
 * - --max-semi-space-size=1: a 1 MiB young generation; ~1 MiB less, more
 *   frequent but tiny scavenges.
 * All accepted by every Node the image ships (20.11 armv7, 24 amd64/arm64),
 * checked by agent-entry.test.ts and the image tests.
 * Not in NODE_OPTIONS, which rejects most V8 flags: on the command line.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ["--no-opt", "--no-maglev", "--no-sparkplug", "--max-semi-space-size=1"];

/** argv[0..] before the agent's own arguments: the image ENTRYPOINT and the DaemonSet `command`. */
export const AGENT_COMMAND: readonly string[] = [NODE_PATH, ...AGENT_NODE_FLAGS, AGENT_PATH];
