export type { BgpPeer, Config, Distro, LogFormat, Mode, PullPolicy } from "./model.ts";
export { defaults, DEFAULT_IMAGE_REPO, DISTROS, MODES, RKE2_SUPERVISOR_PORT } from "./model.ts";
export { RuntimeError, UsageError, badValue } from "./errors.ts";
export { MASK, maskSecrets } from "./secrets.ts";
export { OPTIONS, optionByKey, getPath, type OptionSpec, type Scope, type Alias } from "./options.ts";
export { NOT_YET, parseSources, resolveConfig, validateConfig, type Sources } from "./resolve.ts";
export { parseIp, parseVip, parseImage, networkOrBroadcast, formatPeers, maskPeers, parsePeers, Problem, type EnumParser, type IntegerParser } from "./values.ts";
export { agentEnv } from "./env.ts";
export { ARCHES, archAlias, archiveFileName, hostArch, type Arch } from "./arch.ts";
