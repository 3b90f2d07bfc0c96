import { type ChildProcess, fork, spawnSync } from 'node:child_process'
import path from 'node:path'
import type { PoolOptions, PoolWorker, WorkerRequest } from 'vitest/node'

/** Whether sandboxes can start here, found once per process. */
export interface HostCheck {
  canSandbox: boolean
}

let cached: HostCheck | undefined

/**
 * Probes the host once, synchronously (a pool is configured synchronously), in a child
 * process that runs `@nsbox/core`'s `probe()`. When sandboxes cannot start: throws with
 * the cause and the fix under `'error'`; warns once and reports `canSandbox: false`
 * under `'warn'`.
 */
export function checkHostSupport(onUnsupported: 'error' | 'warn'): HostCheck {
  cached ??= probeOnce()
  if (cached.canSandbox) return cached
  const problem = cachedProblem ?? 'sandboxes cannot start on this host'
  if (onUnsupported === 'error') {
    throw new Error(
      `nsbox: ${problem}\nRun \`npx nsbox doctor\` for details, or pass sandbox({ onUnsupported: 'warn' }) to run the test files unsandboxed.`,
    )
  }
  if (!hasWarned) {
    hasWarned = true
    process.emitWarning(`nsbox: ${problem}; running the test files WITHOUT sandboxes.`, {
      type: 'NsboxWarning',
      code: 'NSBOX_UNSANDBOXED',
    })
  }
  return cached
}

let cachedProblem: string | undefined
let hasWarned = false

function probeOnce(): HostCheck {
  const core = import.meta.resolve('@nsbox/core')
  const script = `import(${JSON.stringify(core)}).then(({ probe }) => probe()).then((s) => process.stdout.write(JSON.stringify(s)))`
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
  })
  try {
    const support = JSON.parse(child.stdout) as {
      canSandbox: boolean
      userNamespaces: { works: boolean; message?: string; fix?: string | null }
    }
    if (!support.canSandbox) {
      const { message = '', fix } = support.userNamespaces
      cachedProblem = `${message.replace(/^nsbox: /, '')}${fix && !message.includes(fix) ? ` To fix: ${fix}.` : ''}`
    }
    return { canSandbox: support.canSandbox }
  } catch {
    cachedProblem = `could not probe this host: ${child.stderr || child.error?.message || 'no output'}`
    return { canSandbox: false }
  }
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
