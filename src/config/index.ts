/** The configuration of `csr-signer run`: flags, environment and the --config file → one frozen RunConfig. */
export { loadRunConfig, deepFreeze, type ReadFile } from './load.js';
export { runUsage, runFlagNames } from './flags.js';
export { readConfigFile, readConfigDocument, configApiVersion, configKind, type ConfigDocument } from './file.js';
export { defaultPolicy } from './policy.js';
export { serviceAccountNamespaceFile } from './leader-election.js';
export type { LeaderElectionConfig, LogLevel, RunConfig } from './types.js';
export { approvableSigners, impliedProfile, neverApproved } from './approver.js';
export { defaultCleanup } from './cleanup.js';
