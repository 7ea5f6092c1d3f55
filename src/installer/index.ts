// The installer's public face: install / uninstall / kubeconfig / doctor use
// cases and the ports their adapters implement.
export { install, validateInstallOptions, type InstallOptions, type InstallDeps, type InstallResult } from "./install.ts";
export { parseImageArch, placedArchiveName, archiveSuffix, type ImageArchive, type ImageOptions, type ImageSummary } from "./image.ts";
export { uninstall, findState, type UninstallOptions, type UninstallDeps, type UninstallResult } from "./uninstall.ts";
export { InstallerError } from "./errors.ts";
export type { Fs, FileStat } from "./fs.ts";
export { NodeFs } from "./node-fs.ts";
export { layoutFor, DROPIN_NAME, type Layout } from "./layout.ts";
export { detectDistro, type Detection } from "./detect.ts";
export type { DesiredFile, Plan, FileChange } from "./plan.ts";
export { parseDatastore, maskDatastore, type Datastore } from "./datastore/url.ts";
export { LiveDatastoreChecker, type DatastoreChecker, type DatastoreResult, type TlsFiles } from "./datastore/check.ts";
export type { DadResult, HostProbe } from "./preflight/host.ts";
export { refuseOwnAddress } from "./install.ts";
export { formatCheck, type Check } from "./preflight/checks.ts";
export { reporterFor, PlainReporter, MemoryReporter, type Reporter } from "./report.ts";
export { ApiUnreachable, kubectlDelete, type ClusterProbe, type DeleteOutcome, type KubeAccess, type ObjectDeleter } from "./kube.ts";
export { scanObjects, type Found } from "./preflight/conflicts.ts";
export { applyPlan, ApplyError } from "./apply.ts";
export { missingDirs } from "./fs.ts";
export { vipSysctls, renderSysctlFile, planSysctls, sysctlKey, SYSCTL_FILE_NAME, type SysctlSetting, type SysctlAction, type SysctlRecord } from "./sysctl.ts";
export { doctor, type DoctorOptions, type DoctorResult } from "./doctor.ts";
