export {
  Lab,
  LabUnavailableError,
  assertLabSupported,
  withLab,
  listLabNamespaces,
  LAB_NET4,
  LAB_NET6,
  LAB_VIP4,
  LAB_VIP6,
  LAB_CLIENT4,
  LAB_CLIENT6,
  LAB_IF,
  type LabNode,
  type LabOptions,
  type NetemSpec,
} from "./lab.ts";
export { LabProcess, type SpawnOptions, type ExitStatus } from "./process.ts";
