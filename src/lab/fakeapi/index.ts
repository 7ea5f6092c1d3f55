// The fake Kubernetes API (tests, lab, demo): see server.ts.
export { startFakeApi, mergePatch, type FakeApi, type FakeApiOptions, type Fault, type FaultSet, type ClientStats } from "./server.ts";
export { Store, RESOURCE_TYPES, resourceType, ApiError, type KubeObject, type ResourceType } from "./store.ts";
export { fakeApiKubeconfig } from "./kubeconfig.ts";
