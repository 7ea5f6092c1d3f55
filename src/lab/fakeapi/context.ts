// The fake API's shared state, passed explicitly to each module.
import type { ServerResponse } from "node:http";
import type { FaultSet } from "./faults.ts";
import type { ClientStats } from "./stats.ts";
import type { Store } from "./store.ts";
import type { Watcher } from "./watch.ts";

export interface FakeContext {
  readonly store: Store;
  readonly faults: FaultSet;
  /** Requests held open by a hang fault; destroyed when it is lifted. */
  readonly hung: Set<ServerResponse>;
  readonly watchers: Set<Watcher>;
  readonly stats: Map<string, ClientStats>;
  /** Known tokens, or null: any token is accepted. */
  readonly tokens: Set<string> | null;
  /** Kubernetes version reported by /version. */
  readonly gitVersion: string;
}
