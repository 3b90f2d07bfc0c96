/**
 * @nsbox/core: rootless Linux sandboxes for test runners and untrusted code.
 *
 * @packageDocumentation
 * @module @nsbox/core
 */

export type { Enforcement, EnforcementBackend } from './cgroup/enforcement.js'
export type { CgroupBackend } from './cgroup/sandbox-cgroup.js'
export {
  ExecFailedError,
  type ExhaustedResource,
  InvalidOptionError,
  isSandboxError,
  LimitUnavailableError,
  MissingToolError,
  ResourceExhaustedError,
  SandboxError,
  type SandboxErrorCode,
  SetupFailedError,
  UnsupportedPlatformError,
  UnsupportedVersionError,
  UsernsBlockedError,
  type UsernsBlocker,
} from './errors.js'
export { killReason } from './launch/kill-reason.js'
export type { KilledBy, SandboxResult } from './launch/result.js'
export { run, spawn } from './launch/run.js'
export type { SandboxProcess } from './launch/sandbox-process.js'
export { closeSpares } from './launch/spares.js'
export type { Duration } from './options/duration.js'
export { validateSandboxOptions } from './options/normalize.js'
export type { Size } from './options/size.js'
export type {
  EnforceMode,
  NetworkMode,
  RunOptions,
  SandboxOptions,
  SpawnOptions,
  StdioSlot,
  UserMode,
} from './options/types.js'
export { type CgroupSupport, type HostSupport, probe, type ToolSupport } from './probe/probe.js'
