import type { ChildProcess } from 'node:child_process'
import { PassThrough, type Readable } from 'node:stream'
import type { StdioSlot } from '../options/types.js'

/** What happens on a sandbox's IPC channel, passed on to its `SandboxProcess`. */
export interface IpcEvents {
  message(message: unknown): void
  disconnect(): void
}

type SendCallback = (error: Error | null) => void

/**
 * A sandbox's streams and IPC channel from the moment `spawn()` returns, before its
 * launcher has started: the launcher's pipes are piped through them once it has, and
 * messages sent meanwhile wait for the channel, in order.
 */
export class DeferredIo {
  /** The command's stdin when its slot is `'pipe'`: written through once the launcher runs. */
  readonly stdin: PassThrough | null
  readonly stdout: PassThrough | null
  readonly stderr: PassThrough | null
  readonly #hasIpc: boolean
  readonly #events: IpcEvents
  #child: ChildProcess | null = null
  #waitingMessages: [unknown, SendCallback | undefined][] = []
  #isDisconnected = false
  #isClosed = false

  constructor(
    stdio: readonly [StdioSlot, StdioSlot, StdioSlot],
    hasIpc: boolean,
    events: IpcEvents,
  ) {
    const [stdin, stdout, stderr] = stdio
    this.stdin = stdin === 'pipe' ? new PassThrough() : null
    this.stdout = stdout === 'pipe' ? new PassThrough() : null
    this.stderr = stderr === 'pipe' ? new PassThrough() : null
    this.#hasIpc = hasIpc
    this.#events = events
  }

  /** Whether the sandbox was spawned with an IPC channel. */
  get hasIpc(): boolean {
    return this.#hasIpc
  }

  /** Whether the IPC channel is open, or will be once the launcher runs. */
  get connected(): boolean {
    return this.#child ? this.#child.connected : this.#hasIpc && !this.#isDisconnected
  }

  /** Connects the launcher's pipes: its stdout, the command's stderr (on `commandStderr`), stdin, IPC. */
  attach(child: ChildProcess, commandStderr: Readable | null): void {
    this.#child = child
    if (this.stdout && child.stdout) child.stdout.pipe(this.stdout)
    if (this.stderr && commandStderr) commandStderr.pipe(this.stderr)
    if (this.stdin && child.stdin) {
      child.stdin.on('error', () => {}) // the command may exit without reading its input
      this.stdin.pipe(child.stdin)
    }
    if (!this.#hasIpc) return
    child.on('message', (message) => this.#events.message(message))
    child.on('disconnect', () => this.#events.disconnect())
    for (const [message, callback] of this.#waitingMessages)
      child.send?.(message as never, callback)
    this.#waitingMessages = []
    if (this.#isDisconnected) child.disconnect?.()
  }

  /** Sends over the IPC channel, or keeps the message until the launcher runs. */
  send(message: unknown, callback?: SendCallback): boolean {
    if (this.#child?.send) return this.#child.send(message as never, callback)
    if (this.#isDisconnected) {
      const error = new Error('Channel closed')
      if (callback) queueMicrotask(() => callback(error))
      return false
    }
    this.#waitingMessages.push([message, callback])
    return true
  }

  /** Closes the IPC channel, now or as soon as the launcher runs. */
  disconnect(): void {
    if (this.#child) {
      this.#child.disconnect?.()
      return
    }
    if (this.#isDisconnected) return
    this.#isDisconnected = true
    queueMicrotask(() => this.#events.disconnect())
  }

  /**
   * After the sandbox has ended: input can no longer reach it; and for one that never
   * started, ends its output streams and says its channel closed.
   */
  close(): void {
    if (this.#isClosed) return
    this.#isClosed = true
    this.stdin?.unpipe()
    this.stdin?.destroy()
    if (this.#child) return
    this.stdout?.end()
    this.stderr?.end()
    for (const [, callback] of this.#waitingMessages) callback?.(new Error('Channel closed'))
    this.#waitingMessages = []
    if (this.#hasIpc && !this.#isDisconnected) {
      this.#isDisconnected = true
      this.#events.disconnect()
    }
  }
}
