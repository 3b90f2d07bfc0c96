/**
 * @nsbox/core/runner: the parts every test runner integration of nsbox shares (the
 * Vitest pool, the Jest runner): their options and defaults, the per-file `@nsbox`
 * docblock, the startup check of the host, the message of a file a limit killed, and
 * the boundary between a runner on the host and its sandboxed test files (the checks of
 * what a file asks the host to read, the runner's read-only files, the capped message
 * channel). For writing an integration for another runner.
 *
 * @packageDocumentation
 * @module @nsbox/core/runner
 */

export { HostAccessError, MessageLimitError } from '../errors.js'
export { readDocblockOverrides } from './docblock.js'
export { fileKilledMessage } from './file-killed.js'
export { HostAccessGuard, type LaunchShape, type ViewOptions } from './host-access.js'
export {
  type HostProblem,
  hostProblem,
  namespacesStartSync,
  unsupportedHostError,
  warnUnsandboxed,
} from './host-check.js'
export { type ChannelCommand, MessageChannel } from './message-channel.js'
export type { Serialization } from './message-framing.js'
export { ConsoleBudget, messageLimitError } from './message-limits.js'
export {
  applyDocblock,
  DEFAULT_MAX_CONSOLE_SIZE,
  DEFAULT_MAX_MESSAGE_SIZE,
  DEFAULT_MEMORY,
  DOCBLOCK_KEYS,
  type DocblockPolicy,
  type FileSandboxOptions,
  fileTimeoutMs,
  type ResolvedTestSandboxOptions,
  type RunnerBoundary,
  resolveTestSandboxOptions,
  type TestSandboxOptions,
} from './options.js'
export { RUNNER_FILE_NAMES, runnerFiles, withReadOnlyRunnerFiles } from './runner-files.js'
export { checkRunnerVersion, SUPPORTED_JEST, SUPPORTED_VITEST } from './version-guard.js'
