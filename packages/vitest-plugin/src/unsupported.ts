import { type ChildProcess, fork, spawnSync } from 'node:child_process'
import path from 'node:path'
import type { HostSupport } from '@nsbox/core'
import {
  type HostProblem,
  hostProblem,
  namespacesStartSync,
  unsupportedHostError,
  warnUnsandboxed,
} from '@nsbox/core/runner'
import type { PoolOptions, PoolWorker, WorkerRequest } from 'vitest/node'

/** Whether sandboxes can start here, found once per process, and if not why. */
export interface HostCheck {
  canSandbox: boolean
  /** What stops them, with the fix, when they cannot start. */
  problem?: HostProblem
}

let cached: HostCheck | undefined

/**
 * Checks the host once, synchronously (a pool is configured synchronously): a quick start
 * of the sandbox namespaces, and only when that fails, `@nsbox/core`'s `probe()` in a
 * child process for the cause and the fix. When sandboxes cannot start: throws the
 * probe's `ERR_USERNS_BLOCKED` (or `ERR_SETUP_FAILED`) with the cause and the fix under
 * `'error'`; warns once and reports `canSandbox: false` under `'warn'`.
 */
export function checkHostSupport(onUnsupported: 'error' | 'warn'): HostCheck {
  cached ??= namespacesStartSync() ? { canSandbox: true } : probeOnce()
  const { problem } = cached
  if (cached.canSandbox || !problem) return cached
  if (onUnsupported === 'error') {
    throw unsupportedHostError(problem, "pass sandbox({ onUnsupported: 'warn' })")
  }
  warnUnsandboxed(problem)
  return cached
}

function probeOnce(): HostCheck {
  const core = import.meta.resolve('@nsbox/core')
  const script = `import(${JSON.stringify(core)}).then(({ probe }) => probe()).then((s) => process.stdout.write(JSON.stringify(s)))`
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
  })
  let support: Pick<HostSupport, 'canSandbox' | 'userNamespaces'>
  try {
    support = JSON.parse(child.stdout)
  } catch {
    const output = child.stderr || child.error?.message || 'no output'
    return {
      canSandbox: false,
      problem: { message: `could not probe this host: ${output}`, blockedBy: null, fix: null },
    }
  }
  const problem = hostProblem(support)
  return problem ? { canSandbox: false, problem } : { canSandbox: true }
}

/**
 * The worker `onUnsupported: 'warn'` falls back to: a plain Node.js child process, as
 * Vitest's own forks pool starts one.
 */
export class UnsandboxedPoolWorker implements PoolWorker {
  readonly name = 'nsbox'
  readonly #options: PoolOptions
  #child: ChildProcess | null = null

  constructor(options: PoolOptions) {
    this.#options = options
  }

  on(event: string, callback: (arg: unknown) => void): void {
    this.#child?.on(event, callback)
  }

  off(event: string, callback: (arg: unknown) => void): void {
    this.#child?.off(event, callback)
  }

  send(message: WorkerRequest): void {
    this.#child?.send(message)
  }

  deserialize(data: unknown): unknown {
    return data
  }

  async start(): Promise<void> {
    const { distPath, env, execArgv, project } = this.#options
    this.#child = fork(path.resolve(distPath, 'workers/forks.js'), [], {
      env,
      execArgv,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    })
    this.#child.stdout?.pipe(project.vitest.logger.outputStream, { end: false })
    this.#child.stderr?.pipe(project.vitest.logger.errorStream, { end: false })
  }

  async stop(): Promise<void> {
    const child = this.#child
    if (!child || child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill()
    await exited
  }
}
