import { EventEmitter } from 'node:events'
import { constants } from 'node:os'
import type { Readable, Writable } from 'node:stream'
import { InvalidOptionError, type SandboxError } from '../errors.js'
import type { SandboxSpec } from '../options/types.js'
import { encodePlan } from '../plan/init-plan.js'
import { readUsernsHostSettings } from '../probe/host-settings.js'
import { debug } from './debug.js'
import { DeferredIo } from './deferred-io.js'
import { interpretEnding } from './ending.js'
import { readExhaustionFacts, rememberOpenFilesLimit, toLaunchError } from './exhaustion.js'
import { enqueueLaunch } from './launch-queue.js'
import {
  type LaunchIo,
  optionOfPath,
  type PreparedLaunch,
  prepareLaunch,
  startLauncher,
} from './launch-steps.js'
import { type LauncherEnd, LauncherProcess } from './launcher-process.js'
import { formatCommand, type KilledBy, type SandboxResult } from './result.js'

export type { LaunchIo } from './launch-steps.js'

/**
 * A running sandbox, returned by {@link spawn}. Shaped like a `ChildProcess`: `stdin`,
 * `stdout`, `stderr`, `send()` and `'message'` events when the IPC channel is on, `kill()`,
 * and `'exit'` with `(code, signal)`. `result` settles once every process of the sandbox
 * is gone.
 *
 * Its launcher starts in a later turn of the event loop, one launch per turn, so that a
 * burst of launches never holds timers back: `pid` is `undefined` until then, and what is
 * written to `stdin` or sent before then waits for it.
 */
export class SandboxProcess extends EventEmitter {
  /** The command's stdin when its `stdio` slot is `'pipe'`, else `null`. */
  readonly stdin: Writable | null
  /** The command's stdout when its `stdio` slot is `'pipe'`, else `null`. */
  readonly stdout: Readable | null
  /** The command's stderr when its `stdio` slot is `'pipe'`, else `null`. */
  readonly stderr: Readable | null
  /** The command line, for messages. */
  readonly command: string
  /**
   * Settles when the sandbox has ended: resolves with how it ended (never rejects for a
   * non-zero exit code), rejects with a {@link SandboxError} when it could not start.
   */
  readonly result: Promise<SandboxResult>

  readonly #io: DeferredIo
  #launcher: LauncherProcess | null = null
  #forgetAtExit: () => void = () => {}
  /** Settles the wait for the launcher's turn: with it, or `null` when killed before. */
  #onLaunched: (launcher: LauncherProcess | null) => void = () => {}
  #killedBy: KilledBy | null = null
  #killedWith: NodeJS.Signals | null = null
  #signalsBeforeLaunch: number[] = []
  #hasEnded = false

  constructor(spec: SandboxSpec, io: LaunchIo) {
    super()
    rememberOpenFilesLimit()
    const startedAt = performance.now()
    let prepared: PreparedLaunch
    try {
      prepared = prepareLaunch(spec, io)
    } catch (error) {
      throw toLaunchError(error, LauncherProcess.running)
    }
    this.command = formatCommand(spec.file, spec.args)
    this.#io = new DeferredIo(io.stdio, io.ipc, {
      message: (message) => this.emit('message', message),
      disconnect: () => this.emit('disconnect'),
    })
    this.stdin = this.#io.stdin
    this.stdout = this.#io.stdout
    this.stderr = this.#io.stderr
    const timer =
      spec.timeoutMs === null
        ? undefined
        : setTimeout(() => this.#terminate('timeout'), spec.timeoutMs)
    const launched = new Promise<LauncherProcess | null>((resolve, reject) => {
      this.#onLaunched = resolve
      enqueueLaunch(() => {
        try {
          this.#launch(prepared)
        } catch (error) {
          reject(toLaunchError(error, LauncherProcess.running))
        }
      })
    })
    this.result = launched
      .then(async (launcher) => {
        const end = launcher ? await launcher.ended : null
        this.#hasEnded = true
        clearTimeout(timer)
        this.#forgetAtExit()
        this.#io.close()
        const result = await this.#resultOf(prepared, launcher, end, performance.now() - startedAt)
        this.emit('exit', result.exitCode, result.signal)
        return result
      })
      .catch((error: SandboxError) => {
        this.#hasEnded = true
        clearTimeout(timer)
        this.#io.close()
        error.command = this.command
        throw error
      })
    // A caller that never awaits `result` must not crash its process with an unhandled rejection.
    this.result.catch(() => {})
  }

  /**
   * Host PID of the sandbox's launcher (`unshare`), once it has started (the `'spawn'`
   * event says when); not the command's own PID.
   */
  get pid(): number | undefined {
    return this.#launcher?.child.pid
  }

  /** Whether the IPC channel is open (or will be, until the launcher has started). */
  get connected(): boolean {
    return this.#io.connected
  }

  /**
   * Sends a message over the IPC channel (`stdio` ending in `'ipc'`); before the launcher
   * has started, it waits for it. Throws `ERR_INVALID_OPTION` without a channel.
   */
  send(message: unknown, callback?: (error: Error | null) => void): boolean {
    if (!this.#io.hasIpc) {
      throw new InvalidOptionError(
        'stdio',
        'nsbox: this sandbox has no IPC channel. Spawn it with stdio ending in "ipc".',
      )
    }
    return this.#io.send(message, callback)
  }

  /** Closes the IPC channel. */
  disconnect(): void {
    this.#io.disconnect()
  }

  /**
   * Sends a signal to the command (default `SIGTERM`). `SIGKILL` ends the whole sandbox
   * at once, at any step of its start; any other signal reaches the command, which may
   * handle it (sent before the command has started, it is delivered once it has). Returns
   * `false` when the sandbox has already ended.
   */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    if (this.#hasEnded) return false
    const number = typeof signal === 'number' ? signal : constants.signals[signal]
    if (number === undefined) {
      throw new InvalidOptionError(
        'signal',
        `nsbox: unknown signal ${String(signal)}. Use a name such as "SIGTERM".`,
      )
    }
    if (number === constants.signals.SIGKILL) {
      this.#killedWith = 'SIGKILL'
      this.#end()
      return true
    }
    if (!this.#launcher) {
      this.#signalsBeforeLaunch.push(number)
      return true
    }
    return this.#launcher.requestSignal(number)
  }

  // In the launch's turn: a launcher, the plan sent, the streams connected.
  #launch(prepared: PreparedLaunch): void {
    if (this.#killedWith || this.#killedBy) return // ended before its turn came
    const { launcher, forgetAtExit } = startLauncher(prepared)
    this.#launcher = launcher
    this.#forgetAtExit = forgetAtExit
    launcher.sendPlan(encodePlan(prepared.plan))
    const pid = launcher.child.pid
    if (pid !== undefined) prepared.limits.watch(pid, (limit) => this.#terminate(limit))
    this.#io.attach(launcher.child, (launcher.child.stdio?.[4] as Readable | undefined) ?? null)
    for (const signal of this.#signalsBeforeLaunch) launcher.requestSignal(signal)
    this.#signalsBeforeLaunch = []
    this.emit('spawn')
    this.#onLaunched(launcher)
  }

  async #resultOf(
    { spec, limits, host }: PreparedLaunch,
    launcher: LauncherProcess | null,
    end: LauncherEnd | null,
    duration: number,
  ): Promise<SandboxResult> {
    const measured = await limits.finish()
    if (end?.error) throw toLaunchError(end.error, LauncherProcess.running)
    const ending = interpretEnding(
      {
        file: spec.file,
        messages: launcher?.control.messages ?? [],
        launcherExitCode: end?.code ?? null,
        launcherSignal: end?.signal ?? null,
        launcherOutput: launcher?.output ?? '',
        terminatedFor: this.#killedBy,
        killedBy: measured.killedBy,
        killedWith: this.#killedWith,
        commandPath: spec.env.PATH,
        optionOf: (path) => optionOfPath(host.filesystem, path),
        pidsLimit: spec.limits.pids,
      },
      readUsernsHostSettings,
      (tasksGone) => readExhaustionFacts(LauncherProcess.running, tasksGone),
    )
    debug(
      `ended after ${duration.toFixed(1)} ms: ${JSON.stringify(ending)}, memoryPeak ${measured.memoryPeak ?? 'n/a'} bytes, cpuTime ${measured.cpuTime ?? 'n/a'} ms`,
    )
    if (ending instanceof Error) throw ending
    return {
      command: this.command,
      ...ending,
      duration,
      cpuTime: measured.cpuTime ?? this.#reportedCpuTime(),
      memoryPeak: measured.memoryPeak,
      pidsPeak: measured.pidsPeak,
      enforcement: measured.enforcement,
      stdout: '',
      stderr: '',
      truncated: false,
    }
  }

  #reportedCpuTime(): number | null {
    const report = this.#launcher?.control.messages.find((message) => message.type === 'cpu')
    return report?.type === 'cpu' ? report.milliseconds : null
  }

  #terminate(reason: KilledBy): void {
    // Once the init has reported how the command ended, a late limit changes nothing.
    const hasCommandEnded = this.#launcher?.control.messages.some(
      (message) => message.type === 'exit' || message.type === 'signal',
    )
    if (this.#hasEnded || this.#killedBy || hasCommandEnded) return
    this.#killedBy = reason
    debug(`killing the sandbox: ${reason}`)
    this.#end()
  }

  // Kills the launcher, or, before its turn, settles without one.
  #end(): void {
    if (this.#launcher) this.#launcher.kill()
    else this.#onLaunched(null)
  }
}
