import { killReason } from '../launch/kill-reason.js'
import type { SandboxResult } from '../launch/result.js'
import type { SandboxOptions } from '../options/types.js'

/**
 * The message a test file killed by a limit fails with, in every runner:
 * `nsbox: tests/big.test.ts was killed: memory limit 256 MiB exceeded (peak 256.0 MiB)`;
 * `undefined` when no limit ended the sandbox.
 *
 * @param relativePath - The test file, relative to the project's root.
 * @param result - Its sandbox's result.
 * @param options - The options its sandbox started with.
 */
export function fileKilledMessage(
  relativePath: string,
  result: Pick<SandboxResult, 'killedBy' | 'memoryPeak' | 'pidsPeak'>,
  options: SandboxOptions,
): string | undefined {
  const reason = killReason(result, options)
  return reason && `nsbox: ${relativePath} was killed: ${reason}`
}
