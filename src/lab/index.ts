// The network-namespace lab: namespaces (netns/), per-server stand-in API
// servers (responder/). Tests, the failover benchmark and the demo build on it.
export * from "./netns/index.ts";
export * from "./responder/index.ts";
