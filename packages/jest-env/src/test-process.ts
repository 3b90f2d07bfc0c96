import type { ChildProcess } from 'node:child_process'
import { readlinkSync } from 'node:fs'
import { isSandboxError, type SandboxProcess } from '@nsbox/core'
import {
  type FileSandboxOptions,
  fileKilledMessage,
  HostAccessGuard,
  type LaunchShape,
  MessageChannel,
  messageLimitError,
  type RunnerBoundary,
} from '@nsbox/core/runner'
import { type Ending, ending, startPlainChild, startSandboxedChild } from './child-start.js'
import type {
  ChildMessage,
  ParentMessage,
  PrepareRequest,
  ProjectPayload,
  RunFileRequest,
  SerializableError,
} from './protocol.js'
import { ResultGuard } from './result-guard.js'
import type { SharedPaths } from './shared-paths.js'

// A child told to end exits at once; this is only for one that hangs.
const EXIT_GRACE_MS = 5_000

/** How one test file ended: Jest's `TestResult`, or why it has none. */
export type FileOutcome = { ok: true; result: unknown } | { ok: false; error: SerializableError }

/** How to start a {@link TestProcess}. */
export interface TestProcessOptions {
  /** `JEST_WORKER_ID` it starts with (each file it runs is given its own). */
  workerId: number
  /** Its sandbox's options (without `timeout`, which is per file); `null` to run unsandboxed. */
  sandbox: FileSandboxOptions | null
  /** Host paths under `/tmp` the sandbox must see: Jest's cache, the trees modules load from. */
  shared: SharedPaths
  /** Whether to end the processes a file left behind and empty `/tmp` after each file. */
  scrub: boolean
  /** How the runner guards itself from the files. */
  boundary: RunnerBoundary
  /** The runner's own files, read-only in the sandbox (already among `sandbox.ro`). */
  runnerFiles: string[]
}

/** One test file for a {@link TestProcess} to run. */
export interface FileRequest {
  /** The file's absolute path. */
  path: string
  project: ProjectPayload
  context: RunFileRequest['context']
  /** `JEST_WORKER_ID` of the file: its slot among the files running at once. */
  workerId: number
  /** The file, relative to its project's root, for messages. */
  relativePath: string
  /** Its wall-clock limit; `null` for none. */
  timeoutMs: number | null
  /** Receives the file's test-case events as they happen. */
  onEvent: (name: string, args: unknown) => void
}

/**
 * A process that runs test files one at a time with Jest's own runner: in a sandbox of its
 * own, or plainly where sandboxes cannot start. A file that a limit killed, or whose
 * process died before Jest reported on it, ends as a failure that says so; the process is
 * then gone, and {@link TestProcess.hasEnded} is true.
 *
 * A sandboxed process talks to the runner over a {@link MessageChannel}, whose messages
 * are capped, and what it reports passes a {@link ResultGuard} before Jest sees it.
 */
export class TestProcess {
  readonly #child: SandboxProcess | ChildProcess
  readonly #channel: MessageChannel | null
  readonly #launch: LaunchShape | null
  readonly #options: TestProcessOptions
  readonly #ending: Promise<Ending>
  #hasEnded = false
  // How it ended, once it has: a process started ahead can end before its file runs.
  #end: Ending | Error | null = null
  // The project the child was sent last, which later files of it need not carry again.
  #lastProject: ProjectPayload | null = null
  #current: {
    request: FileRequest
    guard: ResultGuard | null
    settle: (outcome: FileOutcome) => void
  } | null = null
  #timedOut = false
  // Why the runner ended the process itself (a cap), when it did.
  #boundaryFailure: Error | null = null

  /** Starts the process; rejects with nsbox's errors (such as `ERR_LIMIT_UNAVAILABLE`). */
  static async start(options: TestProcessOptions): Promise<TestProcess> {
    if (!options.sandbox) return new TestProcess(options, startPlainChild(options), null, null)
    const channel = await MessageChannel.open('json', options.boundary.maxMessageBytes)
    try {
      const { child, launch } = startSandboxedChild(options, options.sandbox, channel)
      return new TestProcess(options, child, channel, launch)
    } catch (error) {
      channel.close()
      throw error
    }
  }

  private constructor(
    options: TestProcessOptions,
    child: SandboxProcess | ChildProcess,
    channel: MessageChannel | null,
    launch: LaunchShape | null,
  ) {
    this.#options = options
    this.#child = child
    this.#channel = channel
    this.#launch = launch
    this.#child.stdout?.pipe(process.stdout, { end: false })
    this.#child.stderr?.pipe(process.stderr, { end: false })
    const messages = channel ?? this.#child
    messages.on('message', (message: ChildMessage) => this.#onMessage(message))
    channel?.on('overflow', (bytes: number | null) => {
      const file = this.#current?.request.relativePath ?? 'a test file'
      const limit = options.boundary.maxMessageBytes
      this.#failAtBoundary(messageLimitError(file, 'maxMessageSize', limit, bytes))
    })
    channel?.on('broken', (error: Error) => this.#failAtBoundary(error))
    // How it ended is kept before it counts as ended, for a file sent to it later.
    this.#ending = ending(this.#child)
      .then(
        (end) => {
          this.#end = end
          return end
        },
        (error: unknown) => {
          this.#end = error instanceof Error ? error : new Error(String(error))
          throw error
        },
      )
      .finally(() => {
        this.#hasEnded = true
        channel?.close()
      })
    this.#ending.then(
      (end) => this.#onEnd(end),
      (error: unknown) => this.#current?.settle(failure(error)),
    )
  }

  /** Whether the process is gone (a limit, a crash, {@link TestProcess.kill}). */
  get hasEnded(): boolean {
    return this.#hasEnded
  }

  /**
   * Has the child load ahead what files of `project` need, and build their resolver, so
   * that the next {@link TestProcess.run} starts the file at once.
   */
  prepare(project: ProjectPayload): void {
    const message: PrepareRequest = { type: 'prepare', project }
    this.#lastProject = project
    this.#send(message)
  }

  /** Runs one file; settles with its outcome, never rejects. */
  run(request: FileRequest): Promise<FileOutcome> {
    if (this.#hasEnded) return Promise.resolve(this.#endedBeforeRun(request))
    const guard =
      this.#launch && this.#options.sandbox
        ? new ResultGuard(
            new HostAccessGuard(
              { ...this.#options.sandbox, runnerFiles: this.#options.runnerFiles },
              this.#launch,
              request.relativePath,
            ),
            this.#options.boundary.maxConsoleBytes,
            request.relativePath,
          )
        : null
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
        guard,
        settle: (outcome) => {
          clearTimeout(timer)
          this.#current = null
          resolve(outcome)
        },
      }
      const message: RunFileRequest = {
        type: 'run',
        path: request.path,
        ...(request.project !== this.#lastProject && { project: request.project }),
        context: request.context,
        workerId: request.workerId,
        scrubIn: this.#options.scrub ? readlinkSync('/proc/self/ns/pid') : null,
      }
      this.#lastProject = request.project
      this.#send(message)
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
    if (this.#channel ? this.#channel.connected : this.#child.connected) this.#send({ type: 'end' })
    await this.#ending.catch(() => undefined)
    clearTimeout(force)
  }

  #send(message: ParentMessage): void {
    if (this.#channel) this.#channel.send(message)
    else this.#child.send?.(message)
  }

  // The file broke one of the runner's caps: end the process, and fail the file with `error`.
  #failAtBoundary(error: Error): void {
    if (this.#boundaryFailure || this.#hasEnded) return
    this.#boundaryFailure = error
    this.kill()
  }

  #onMessage(incoming: ChildMessage): void {
    const current = this.#current
    if (!current || this.#boundaryFailure) return
    const verdict = current.guard ? current.guard.check(incoming) : { message: incoming }
    if ('error' in verdict) {
      this.#failAtBoundary(verdict.error)
      return
    }
    const { message } = verdict
    if (message.type === 'event') current.request.onEvent(message.name, message.args)
    else if (message.type === 'result') current.settle({ ok: true, result: message.result })
    else current.settle({ ok: false, error: message.error })
  }

  #onEnd(end: Ending): void {
    const current = this.#current
    if (current) current.settle(this.#failureOnEnd(end, current.request))
  }

  // A file sent to a process that has already ended (while it prepared, say by a limit).
  #endedBeforeRun(request: FileRequest): FileOutcome {
    const end = this.#end
    if (end === null) return failure(`nsbox: ${request.relativePath}: its test process is gone.`)
    return end instanceof Error ? failure(end) : this.#failureOnEnd(end, request)
  }

  // Why a file failed whose process ended before Jest reported on it.
  #failureOnEnd({ exitCode, signal, sandbox }: Ending, request: FileRequest): FileOutcome {
    const { relativePath } = request
    if (this.#boundaryFailure) return failure(this.#boundaryFailure)
    const timeout = { killedBy: 'timeout' as const, memoryPeak: null, pidsPeak: null }
    const killed = this.#timedOut
      ? fileKilledMessage(relativePath, timeout, { timeout: request.timeoutMs ?? 0 })
      : sandbox && fileKilledMessage(relativePath, sandbox, this.#options.sandbox ?? {})
    const how = signal ? `signal ${signal}` : `exit code ${exitCode}`
    return failure(
      killed ??
        `nsbox: ${relativePath}: its test process ended with ${how} before Jest reported a result.`,
    )
  }
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
