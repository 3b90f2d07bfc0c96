import { normalizeRunOptions, normalizeSpawnOptions } from '../options/normalize.js'
import type { RunOptions, SpawnOptions } from '../options/types.js'
import { collectOutput } from './collect-output.js'
import type { SandboxResult } from './result.js'
import { SandboxProcess } from './sandbox-process.js'

/**
 * Runs a command in a new sandbox and resolves once every process of it is gone, with
 * how it ended and what it printed. A non-zero exit code or a signal still resolves; only
 * a sandbox that cannot start rejects, with a {@link SandboxError}.
 *
 * @param file - The program; looked up on the command's `PATH` unless it contains a `/`.
 * @param args - Its arguments.
 * @param options - See {@link RunOptions}; defaults: loopback-only network, private `/tmp`
 *   of `1G`, the caller's own uid, no timeout, `maxOutput` of `16M` per stream.
 *
 * @example
 * ```ts
 * import { run } from '@nsbox/core'
 *
 * const result = await run('node', ['-e', 'console.log(process.pid)'], { timeout: '10s' })
 * result.stdout   // '2\n': the command has its own PID space
 * result.exitCode // 0
 * ```
 */
export function run(
  file: string,
  args?: readonly string[],
  options?: RunOptions,
): Promise<SandboxResult>
export function run(file: string, options?: RunOptions): Promise<SandboxResult>
export async function run(
  file: string,
  argsOrOptions?: readonly string[] | RunOptions,
  maybeOptions?: RunOptions,
): Promise<SandboxResult> {
  const [args, options] = splitArguments(argsOrOptions, maybeOptions)
  const spec = normalizeRunOptions(file, args, options)
  const sandbox = new SandboxProcess(spec, {
    stdio: [spec.input === null ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    ipc: false,
    serialization: 'json',
  })
  if (sandbox.stdin) {
    sandbox.stdin.on('error', () => {}) // the command may exit without reading its input
    sandbox.stdin.end(spec.input)
  }
  const [stdout, stderr, result] = await Promise.all([
    collectOutput(sandbox.stdout, spec.maxOutputBytes),
    collectOutput(sandbox.stderr, spec.maxOutputBytes),
    sandbox.result,
  ])
  return {
    ...result,
    stdout: stdout.text,
    stderr: stderr.text,
    truncated: stdout.truncated || stderr.truncated,
  }
}

/**
 * Starts a command in a new sandbox and returns at once with a {@link SandboxProcess}:
 * streams, an optional Node.js IPC channel, `kill()`, and a `result` promise. This is what
 * test-runner integrations use to start a worker per test file.
 *
 * @param file - The program; looked up on the command's `PATH` unless it contains a `/`.
 * @param args - Its arguments.
 * @param options - See {@link SpawnOptions}; the same defaults as {@link run}, and
 *   `stdio: 'pipe'`.
 *
 * @example
 * ```ts
 * import { spawn } from '@nsbox/core'
 *
 * const worker = spawn(process.execPath, ['worker.js'], { stdio: ['pipe', 'inherit', 'inherit', 'ipc'] })
 * worker.on('message', (message) => console.log(message))
 * worker.send({ hello: 'sandbox' })
 * const { exitCode } = await worker.result
 * ```
 */
export function spawn(
  file: string,
  args?: readonly string[],
  options?: SpawnOptions,
): SandboxProcess
export function spawn(file: string, options?: SpawnOptions): SandboxProcess
export function spawn(
  file: string,
  argsOrOptions?: readonly string[] | SpawnOptions,
  maybeOptions?: SpawnOptions,
): SandboxProcess {
  const [args, options] = splitArguments(argsOrOptions, maybeOptions)
  const spec = normalizeSpawnOptions(file, args, options)
  return new SandboxProcess(spec, {
    stdio: spec.stdio,
    ipc: spec.ipc,
    serialization: spec.serialization,
  })
}

// run(file, options) and spawn(file, options) skip the arguments, as execa allows.
function splitArguments(argsOrOptions: unknown, options: unknown): [unknown, unknown] {
  const isOptions =
    typeof argsOrOptions === 'object' && argsOrOptions !== null && !Array.isArray(argsOrOptions)
  return isOptions ? [undefined, argsOrOptions] : [argsOrOptions, options]
}
