import { EventEmitter } from 'node:events'
import path from 'node:path'
import type { Writable } from 'node:stream'
import type { SandboxProcess, SandboxResult } from '@nsbox/core'
import {
  type FileSandboxOptions,
  fileKilledMessage,
  type MessageChannel,
  messageLimitError,
  type RunnerBoundary,
} from '@nsbox/core/runner'
import {
  generateFileHash,
  type PoolOptions,
  type PoolWorker,
  type WorkerRequest,
} from 'vitest/node'
import { fileFailureMessages, fileTaskOf, type TrackedFile } from './file-failure.js'
import { type FileLaunch, launchFile } from './file-launch.js'
import type { RpcGuard } from './rpc-guard.js'

type Message = {
  __vitest_worker_request__?: true
  __vitest_worker_response__?: true
  type?: string
}
type RunContext = { files?: Array<{ filepath: string }> }

const STOP_GRACE_MS = 10_000

/**
 * A Vitest pool worker whose process is a fresh nsbox sandbox. The sandbox starts with
 * the file it is to run, because the file's `@nsbox` docblock may change its limits;
 * until then the worker answers Vitest's `start` itself and replays it to the real
 * worker. When a limit kills the sandbox, the worker fails the file as that file, the
 * way Vitest's own worker reports a failed file, and reports the death only once.
 *
 * The worker talks to Vitest over a {@link MessageChannel}, whose messages are capped, and
 * through an {@link RpcGuard}: Vitest serves it only what its sandbox could read itself.
 */
export class SandboxPoolWorker implements PoolWorker {
  readonly name = 'nsbox'
  // Vitest's forks pool passes cached files through os.tmpdir(), which a sandbox's
  // private /tmp hides from the main process.
  readonly cacheFs = false
  readonly #options: PoolOptions
  readonly #base: FileSandboxOptions
  readonly #boundary: RunnerBoundary
  readonly #events = new EventEmitter()
  #sandbox: SandboxProcess | null = null
  #channel: MessageChannel | null = null
  #guard: RpcGuard | null = null
  #isLaunching = false
  // What Vitest sent while the sandbox was being set up, for it once it is.
  #waiting: WorkerRequest[] = []
  // Why nsbox failed the file itself (a cap), when it did.
  #boundaryFailure: Error | null = null
  #heldStart: WorkerRequest | null = null
  #heldRun: WorkerRequest | null = null
  #file: TrackedFile | null = null
  #fileOptions: FileSandboxOptions = {}
  #relativePath = ''
  #hasEnded = false
  #isStopping = false
  #isFileFinished = false

  constructor(options: PoolOptions, base: FileSandboxOptions, boundary: RunnerBoundary) {
    this.#options = options
    this.#base = base
    this.#boundary = boundary
  }

  on(event: string, callback: (arg: unknown) => void): void {
    this.#events.on(event, callback)
  }

  off(event: string, callback: (arg: unknown) => void): void {
    this.#events.off(event, callback)
  }

  deserialize(data: unknown): unknown {
    return data
  }

  /** One sandbox per file: never handed a second one. */
  canReuse(): boolean {
    return false
  }

  async start(): Promise<void> {}

  send(message: WorkerRequest): void {
    const request = message as Message
    if (request.__vitest_worker_request__ && request.type === 'start' && !this.#sandbox) {
      this.#heldStart = message
      this.#emitLater({ __vitest_worker_response__: true, type: 'started' })
      return
    }
    if (
      request.__vitest_worker_request__ &&
      (request.type === 'run' || request.type === 'collect') &&
      !this.#sandbox &&
      !this.#isLaunching
    ) {
      this.#heldRun = message
      void this.#launch((message as unknown as { context: RunContext }).context)
      return
    }
    if (this.#isLaunching) {
      this.#waiting.push(message)
      return
    }
    if (
      request.__vitest_worker_request__ &&
      request.type === 'stop' &&
      (this.#hasEnded || !this.#sandbox)
    ) {
      this.#emitLater({ __vitest_worker_response__: true, type: 'stopped' })
      return
    }
    if (!this.#hasEnded) this.#channel?.send(this.#guard ? this.#guard.toWorker(message) : message)
  }

  async stop(): Promise<void> {
    const sandbox = this.#sandbox
    if (!sandbox) return
    this.#isStopping = true
    if (!this.#hasEnded) {
      sandbox.kill('SIGTERM')
      const force = setTimeout(() => sandbox.kill('SIGKILL'), STOP_GRACE_MS)
      await sandbox.result.catch(() => undefined)
      clearTimeout(force)
    }
  }

  async #launch(context: RunContext): Promise<void> {
    const { project } = this.#options
    const root = project.config.root
    const filepath = context.files?.[0]?.filepath ?? root
    this.#relativePath = path.relative(root, filepath)
    this.#isLaunching = true
    let launch: FileLaunch
    try {
      launch = await launchFile(
        this.#options,
        this.#base,
        this.#boundary,
        filepath,
        this.#relativePath,
      )
      this.#fileOptions = launch.options
      this.#sandbox = launch.sandbox
      this.#channel = launch.channel
      this.#guard = launch.guard
    } catch (error) {
      this.#isLaunching = false
      this.#hasEnded = true
      this.#failFile(filepath, { name: (error as Error).name, message: (error as Error).message })
      this.#sendWaiting()
      return
    }
    this.#isLaunching = false
    const logger = project.vitest.logger
    pipeInto(this.#sandbox.stdout, logger.outputStream)
    pipeInto(this.#sandbox.stderr, logger.errorStream)
    const channel = launch.channel
    channel.on('message', (message: unknown) => this.#onWorkerMessage(message))
    channel.on('overflow', (bytes: number | null) =>
      this.#failAtBoundary(
        messageLimitError(
          this.#relativePath,
          'maxMessageSize',
          this.#boundary.maxMessageBytes,
          bytes,
        ),
      ),
    )
    channel.on('broken', (error: Error) => this.#failAtBoundary(error))
    this.#sandbox.result.then(
      (result) => this.#onEnd(filepath, result),
      (error: Error) => this.#onEnd(filepath, null, error),
    )
    channel.send(this.#heldStart)
    this.#sendWaiting()
  }

  // What Vitest sent while the sandbox was being set up.
  #sendWaiting(): void {
    const waiting = this.#waiting
    this.#waiting = []
    for (const message of waiting) this.send(message)
  }

  // The file broke one of the runner's caps: end its sandbox, and fail it with `error`.
  #failAtBoundary(error: Error): void {
    if (this.#boundaryFailure || this.#hasEnded) return
    this.#boundaryFailure = error
    this.#sandbox?.kill('SIGKILL')
  }

  #onWorkerMessage(incoming: unknown): void {
    if (this.#boundaryFailure) return
    const verdict = this.#guard?.fromWorker(incoming) ?? { forward: incoming }
    if ('reply' in verdict) {
      if (verdict.reply) this.#channel?.send(verdict.reply)
      return
    }
    if ('fail' in verdict) {
      this.#failAtBoundary(verdict.fail)
      return
    }
    const message = verdict.forward
    const response = message as Message
    if (response?.__vitest_worker_response__ && response.type === 'started' && this.#heldRun) {
      const run = this.#heldRun
      this.#heldRun = null
      const error = (message as { error?: unknown }).error
      if (error) {
        this.#emitLater({ __vitest_worker_response__: true, type: 'testfileFinished', error })
        return
      }
      this.#channel?.send(run)
      return
    }
    if (response?.__vitest_worker_response__ && response.type === 'testfileFinished') {
      this.#isFileFinished = true
    }
    const task = fileTaskOf(message)
    if (task) {
      this.#file = {
        task: task.task,
        isCollected: task.isCollected || !!this.#file?.isCollected,
        isKnown: true,
      }
    }
    this.#events.emit('message', message)
  }

  #onEnd(filepath: string, result: SandboxResult | null, error?: Error): void {
    this.#hasEnded = true
    this.#channel?.close()
    if (!this.#isFileFinished && this.#boundaryFailure) {
      const { name, message } = this.#boundaryFailure
      this.#failFile(filepath, { name, message })
      return
    }
    const killed = result && fileKilledMessage(this.#relativePath, result, this.#fileOptions)
    if (!this.#isFileFinished && killed) {
      this.#failFile(filepath, { name: 'SandboxLimitError', message: killed })
      return
    }
    if (!this.#isFileFinished && error) {
      this.#failFile(filepath, { name: error.name, message: error.message })
      return
    }
    // Any other death is Vitest's to report, as with its own forks pool.
    if (!this.#isStopping) this.#events.emit('exit', result?.exitCode ?? 1)
  }

  #failFile(filepath: string, error: { name: string; message: string }): void {
    const file = this.#file ?? {
      task: this.#newFileTask(filepath),
      isCollected: false,
      isKnown: false,
    }
    this.#isFileFinished = true
    for (const failure of fileFailureMessages(file, error)) this.#emitLater(failure)
  }

  // The task Vitest's worker would have made for the file, with the same id.
  #newFileTask(filepath: string): TrackedFile['task'] {
    const { project } = this.#options
    const name = path.relative(project.config.root, filepath)
    const task: TrackedFile['task'] = {
      id: generateFileHash(name, project.name),
      name,
      fullName: name,
      type: 'suite',
      mode: 'queued',
      filepath,
      tasks: [],
      meta: {},
      projectName: project.name,
      pool: this.name,
    }
    task.file = task
    return task
  }

  #emitLater(message: unknown): void {
    setImmediate(() => this.#events.emit('message', message))
  }
}

// Vitest's logger streams are shared by every worker: one more listener while this one
// pipes into them, as its forks pool does.
function pipeInto(source: NodeJS.ReadableStream | null, target: Writable): void {
  if (!source) return
  target.setMaxListeners(target.getMaxListeners() + 1)
  source.pipe(target, { end: false })
  source.once('end', () => target.setMaxListeners(Math.max(0, target.getMaxListeners() - 1)))
}
