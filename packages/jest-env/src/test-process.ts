import { type ChildProcess, fork } from 'node:child_process'
import { readlinkSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { isSandboxError, type SandboxProcess, type SandboxResult, spawn } from '@nsbox/core'
import { type FileSandboxOptions, fileKilledMessage } from '@nsbox/core/runner'
import type { ChildMessage, EndRequest, RunFileRequest, SerializableError } from './protocol.js'
import type { SharedPaths } from './shared-paths.js'

const CHILD_SCRIPT = fileURLToPath(new URL('./child.js', import.meta.url))
// A child told to end exits at once; this is only for one that hangs.
const EXIT_GRACE_MS = 5_000

/** How one test file ended: Jest's `TestResult`, or why it has none. */
export type FileOutcome = { ok: true; result: unknown } | { ok: false; error: SerializableError }

/** How to start a {@link TestProcess}. */
export interface TestProcessOptions {
  /** `JEST_WORKER_ID` of the files it runs. */
  workerId: number
  /** Its sandbox's options (without `timeout`, which is per file); `null` to run unsandboxed. */
  sandbox: FileSandboxOptions | null
  /** Host paths under `/tmp` the sandbox must see: Jest's cache, the trees modules load from. */
  shared: SharedPaths
  /** Whether to end the processes a file left behind and empty `/tmp` after each file. */
  scrub: boolean
}

/** One test file for a {@link TestProcess} to run. */
export interface FileRequest {
  message: Omit<RunFileRequest, 'type' | 'workerId' | 'scrubIn'>
  /** The file, relative to its project's root, for messages. */
  relativePath: string
  /** Its wall-clock limit; `null` for none. */
  timeoutMs: number | null
  /** Receives the file's test-case events as they happen. */
  onEvent: (name: string, args: unknown) => void
}

interface Ending {
  exitCode: number | null
  signal: string | null
  /** The sandbox's result; `null` for a plain child process. */
  sandbox: SandboxResult | null
}

/**
 * A process that runs test files one at a time with Jest's own runner: in a sandbox of its
 * own, or plainly where sandboxes cannot start. A file that a limit killed, or whose
 * process died before Jest reported on it, ends as a failure that says so; the process is
 * then gone, and {@link TestProcess.hasEnded} is true.
 */
export class TestProcess {
  readonly #child: SandboxProcess | ChildProcess
  readonly #options: TestProcessOptions
  readonly #ending: Promise<Ending>
  #hasEnded = false
  #current: { request: FileRequest; settle: (outcome: FileOutcome) => void } | null = null
  #timedOut = false

  /** Starts the process; throws nsbox's errors (such as `ERR_LIMIT_UNAVAILABLE`). */
  constructor(options: TestProcessOptions) {
    this.#options = options
    this.#child = startChild(options)
    this.#child.stdout?.pipe(process.stdout, { end: false })
    this.#child.stderr?.pipe(process.stderr, { end: false })
    this.#child.on('message', (message: ChildMessage) => this.#onMessage(message))
    this.#ending = ending(this.#child).finally(() => {
      this.#hasEnded = true
    })
    this.#ending.then(
      (end) => this.#onEnd(end),
      (error: unknown) => this.#settle(failure(error)),
    )
  }

  /** Whether the process is gone (a limit, a crash, {@link TestProcess.kill}). */
  get hasEnded(): boolean {
    return this.#hasEnded
  }

  /** Runs one file; settles with its outcome, never rejects. */
  run(request: FileRequest): Promise<FileOutcome> {
    if (this.#hasEnded) {
      return Promise.resolve(failure(`nsbox: ${request.relativePath}: its test process is gone.`))
    }
    return new Promise((resolve) => {
      this.#timedOut = false
      const timer =
        request.timeoutMs === null
          ? undefined
          : setTimeout(() => {
              this.#timedOut = true
              this.kill()
            }, request.timeoutMs)
      this.#current = {
        request,
        settle: (outcome) => {
          clearTimeout(timer)
          this.#current = null
          resolve(outcome)
        },
      }
      const message: RunFileRequest = {
        type: 'run',
        ...request.message,
        workerId: this.#options.workerId,
        scrubIn: this.#options.scrub ? readlinkSync('/proc/self/ns/pid') : null,
      }
      this.#child.send(message)
    })
  }

  /** Ends the process and everything it started. */
  kill(): void {
    this.#child.kill('SIGKILL')
  }

  /** Tells the process to end once it is idle, and waits for it. */
  async close(): Promise<void> {
    if (this.#hasEnded) return
    const force = setTimeout(() => this.kill(), EXIT_GRACE_MS)
    const end: EndRequest = { type: 'end' }
    if (this.#child.connected) this.#child.send(end)
    await this.#ending.catch(() => undefined)
    clearTimeout(force)
  }

  #onMessage(message: ChildMessage): void {
    const current = this.#current
    if (!current) return
    if (message.type === 'event') current.request.onEvent(message.name, message.args)
    else if (message.type === 'result') current.settle({ ok: true, result: message.result })
    else current.settle({ ok: false, error: message.error })
  }

  #onEnd({ exitCode, signal, sandbox }: Ending): void {
    const current = this.#current
    if (!current) return
    const { relativePath } = current.request
    const timeout = { killedBy: 'timeout' as const, memoryPeak: null, pidsPeak: null }
    const killed = this.#timedOut
      ? fileKilledMessage(relativePath, timeout, { timeout: current.request.timeoutMs ?? 0 })
      : sandbox && fileKilledMessage(relativePath, sandbox, this.#options.sandbox ?? {})
    const how = signal ? `signal ${signal}` : `exit code ${exitCode}`
    current.settle(
      failure(
        killed ??
          `nsbox: ${relativePath}: its test process ended with ${how} before Jest reported a result.`,
      ),
    )
  }

  #settle(outcome: FileOutcome): void {
    this.#current?.settle(outcome)
  }
}

function startChild(options: TestProcessOptions): SandboxProcess | ChildProcess {
  const env: Record<string, string | undefined> = {
    ...process.env,
    JEST_WORKER_ID: String(options.workerId),
  }
  // Jest's workers colour their messages when Jest's own output is coloured.
  if (env.FORCE_COLOR === undefined && process.stdout.hasColors?.()) env.FORCE_COLOR = '1'
  // As Jest's workers: the same flags (--experimental-vm-modules…), but no debugger.
  const execArgv = process.execArgv.filter((flag) => !/^--(inspect|debug)/.test(flag))
  const stdio: ['ignore', 'pipe', 'pipe', 'ipc'] = ['ignore', 'pipe', 'pipe', 'ipc']
  if (!options.sandbox) return fork(CHILD_SCRIPT, [], { env, execArgv, stdio })
  // No arguments of its own, as Jest's workers: what it needs of /tmp is named as options.
  return spawn(process.execPath, [...execArgv, CHILD_SCRIPT], {
    ...options.sandbox,
    ...withSharedPaths(options.sandbox, options.shared),
    env,
    extendEnv: false,
    stdio,
  })
}

// The file's own `rw` and `ro`, and the shared paths they do not name already.
function withSharedPaths(
  sandbox: FileSandboxOptions,
  shared: SharedPaths,
): Pick<FileSandboxOptions, 'rw' | 'ro'> {
  const named = [...(sandbox.rw ?? []), ...(sandbox.ro ?? []), ...(sandbox.hide ?? [])]
  const isNamed = (file: string) =>
    named.some((each) => file === each || file.startsWith(`${each}/`))
  return {
    rw: [...(sandbox.rw ?? []), ...shared.rw.filter((file) => !isNamed(file))],
    ro: [...(sandbox.ro ?? []), ...shared.ro.filter((file) => !isNamed(file))],
  }
}

function ending(child: SandboxProcess | ChildProcess): Promise<Ending> {
  if ('result' in child) {
    return child.result.then((result) => ({
      exitCode: result.exitCode,
      signal: result.signal,
      sandbox: result,
    }))
  }
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (exitCode, signal) => resolve({ exitCode, signal, sandbox: null }))
  })
}

/**
 * A failed file's error as Jest's reporters take it. nsbox's own errors say all there is
 * to say, so their stack is left empty (Jest prints a missing stack as the whole object).
 */
export function failure(error: unknown): FileOutcome {
  if (typeof error === 'string') return { ok: false, error: { message: error, stack: '' } }
  const { message, stack } = error as Error
  return {
    ok: false,
    error: {
      message: String(message ?? error),
      stack: isSandboxError(error) ? '' : (stack ?? ''),
      type: 'Error',
    },
  }
}
