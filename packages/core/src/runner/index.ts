/**
 * @nsbox/core/runner: the parts every test runner integration of nsbox shares (the
 * Vitest pool, the Jest runner): their options and defaults, the per-file `@nsbox`
 * docblock, the startup check of the host and the message of a file a limit killed.
 * For writing an integration for another runner.
 *
 * @packageDocumentation
 * @module @nsbox/core/runner
 */

export { readDocblockOverrides } from './docblock.js'
export { fileKilledMessage } from './file-killed.js'
export {
  type HostProblem,
  hostProblem,
  namespacesStartSync,
  unsupportedHostError,
  warnUnsandboxed,
} from './host-check.js'
export {
  applyDocblock,
  DEFAULT_MEMORY,
  DOCBLOCK_KEYS,
  type FileSandboxOptions,
  fileTimeoutMs,
  type ResolvedTestSandboxOptions,
  resolveTestSandboxOptions,
  type TestSandboxOptions,
} from './options.js'
export { checkRunnerVersion, SUPPORTED_JEST, SUPPORTED_VITEST } from './version-guard.js'
