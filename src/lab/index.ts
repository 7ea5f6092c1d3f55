// The network-namespace lab: namespaces (netns/), per-server stand-in API
// servers and the benchmark client (responder/), and the cluster that ties
// them to real agent processes (cluster/). Tests, the failover benchmark and
// the demo build on it.
export * from "./netns/index.ts";
export * from "./responder/index.ts";
export * from "./cluster/index.ts";
