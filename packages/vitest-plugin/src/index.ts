/**
 * @nsbox/vitest-plugin: a Vitest pool that runs every test file in its own rootless
 * sandbox, with a memory cap.
 *
 * @packageDocumentation
 * @module @nsbox/vitest-plugin
 */
import {
  checkRunnerVersion,
  resolveTestSandboxOptions,
  SUPPORTED_VITEST,
  type TestSandboxOptions,
} from '@nsbox/core/runner'
import { type PoolRunnerInitializer, version as vitestVersion } from 'vitest/node'
import { SandboxPoolWorker } from './pool-worker.js'
import { checkHostSupport, UnsandboxedPoolWorker } from './unsupported.js'

export { DEFAULT_MEMORY } from '@nsbox/core/runner'

/**
 * Options of {@link sandbox}: the limits and isolation every test file's sandbox starts
 * with, and what to do on a host that cannot start sandboxes.
 */
export interface SandboxPoolOptions extends TestSandboxOptions {}

/**
 * The value for Vitest's `test.pool`: every test file runs in a fresh nsbox sandbox
 * (its own PID space, loopback, `/tmp` and hostname, a memory cap), and everything it
 * started dies when it ends. A file killed by a limit fails as that file, with a message
 * naming the limit and the peak; the rest of the run goes on.
 *
 * A test file can change its own limits in a docblock at its top:
 * `/** @nsbox memory=1G network=host timeout=2m *\/` (`docblock: 'tighten-only'` lets it
 * only tighten them). Vitest's main process serves a file's worker only what its sandbox
 * could read itself, the runner's own files are read-only to it, and its messages and
 * console output are capped.
 *
 * @param options - See {@link SandboxPoolOptions}. Default: `memory: '2G'`, loopback
 *   network, private 1G `/tmp`, no timeout, `protectRunner: true`, `docblock: 'any'`,
 *   `maxMessageSize: '16M'`, `maxConsoleSize: '8M'`, `onUnsupported: 'error'`.
 *
 * @example
 * ```ts
 * // vitest.config.ts
 * import { defineConfig } from 'vitest/config'
 * import { sandbox } from '@nsbox/vitest-plugin'
 *
 * export default defineConfig({ test: { pool: sandbox({ memory: '512M' }) } })
 * ```
 */
export function sandbox(options?: SandboxPoolOptions): PoolRunnerInitializer {
  // Vitest 3 ignores a pool object and 4.0.9 crashes on it, both without a word.
  checkRunnerVersion('vitest', vitestVersion, SUPPORTED_VITEST, '@nsbox/vitest-plugin')
  const resolved = resolveTestSandboxOptions(options, 'sandbox()')
  const support = checkHostSupport(resolved.onUnsupported)
  return {
    name: 'nsbox',
    createPoolWorker: (poolOptions) =>
      support.canSandbox
        ? new SandboxPoolWorker(poolOptions, resolved.sandbox, resolved.boundary)
        : new UnsandboxedPoolWorker(poolOptions),
  }
}
