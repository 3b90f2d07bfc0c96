import type { ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { constants } from 'node:os'
import type { Readable, Writable } from 'node:stream'
import { InvalidOptionError, type SandboxError } from '../errors.js'
import type { SandboxSpec, StdioSlot } from '../options/types.js'
import { encodePlan, planInit } from '../plan/init-plan.js'
import { readUsernsHostSettings } from '../probe/host-settings.js'
import { resolveLauncherTools } from '../probe/tools.js'
import { debug, isDebugEnabled } from './debug.js'
import { interpretEnding } from './ending.js'
import { readExhaustionFacts, rememberOpenFilesLimit, toLaunchError } from './exhaustion.js'
import { atProcessExit } from './exit-cleanup.js'
import type { FilesystemFacts } from './filesystem-facts.js'
import { gatherHostFacts } from './host-facts.js'
import { LauncherProcess, type LaunchShape } from './launcher-process.js'
import { SandboxLimits } from './limits.js'
import { formatCommand, type KilledBy, type SandboxResult } from './result.js'
import { prepareSpare, takeSpare } from './spares.js'

/** How a launch connects the command's standard streams. */
export interface LaunchIo {
  stdio: [StdioSlot, StdioSlot, StdioSlot]
  ipc: boolean
  serialization: 'json' | 'advanced'
}

/**
 * A running sandbox, returned by {@link spawn}. Shaped like a `ChildProcess`: `stdin`,
 * `stdout`, `stderr`, `send()` and `'message'` events when the IPC channel is on, and
 * `kill()`. `result` settles once every process of the sandbox is gone.
 */
export class SandboxProcess extends EventEmitter {
  /** The command's stdin when its `stdio` slot is `'pipe'`, else `null`. */
  readonly stdin: Writable | null
  /** The command's stdout when its `stdio` slot is `'pipe'`, else `null`. */
  readonly stdout: Readable | null
  /** The command's stderr when its `stdio` slot is `'pipe'`, else `null`. */
  readonly stderr: Readable | null
  /** Host PID of the sandbox's launcher (`unshare`); not the command's own PID. */
  readonly pid: number | undefined
  /** The command line, for messages. */
  readonly command: string
  /**
   * Settles when the sandbox has ended: resolves with how it ended (never rejects for a
   * non-zero exit code), rejects with a {@link SandboxError} when it could not start.
   */
  readonly result: Promise<SandboxResult>

  readonly #launcher: LauncherProcess
  readonly #child: ChildProcess
  #killedBy: KilledBy | null = null
  #killedWith: NodeJS.Signals | null = null
  #hasEnded = false

  constructor(spec: SandboxSpec, io: LaunchIo) {
    super()
    rememberOpenFilesLimit()
    let started: ReturnType<typeof startLaunch>
    try {
      started = startLaunch(spec, io)
    } catch (error) {
      throw toLaunchError(error, LauncherProcess.running)
    }
    const { launcher, limits, host, plan, forgetAtExit } = started
    this.#launcher = launcher
    this.#child = launcher.child
    this.command = formatCommand(spec.file, spec.args)
    if (isDebugEnabled()) debug(`plan: ${plan.filter((token) => !token.includes('=')).join(' ')}`)

    const startedAt = performance.now()
    launcher.sendPlan(encodePlan(plan))
    this.pid = this.#child.pid
    if (this.pid !== undefined) limits.watch(this.pid, (limit) => this.#terminate(limit))
    this.stdin = this.#child.stdin
    this.stdout = this.#child.stdout
    this.stderr = (this.#child.stdio?.[4] as Readable | null | undefined) ?? null

    if (io.ipc) {
      this.#child.on('message', (message) => this.emit('message', message))
      this.#child.on('disconnect', () => this.emit('disconnect'))
    }

    const timer =
      spec.timeoutMs === null
        ? undefined
        : setTimeout(() => this.#terminate('timeout'), spec.timeoutMs)

    this.result = launcher.ended.then(async (end) => {
      this.#hasEnded = true
      clearTimeout(timer)
      forgetAtExit()
      const duration = performance.now() - startedAt
      const measured = await limits.finish()
      if (end.error) throw toLaunchError(end.error, LauncherProcess.running)
      const ending = interpretEnding(
        {
          file: spec.file,
          messages: launcher.control.messages,
          launcherExitCode: end.code,
          launcherSignal: end.signal,
          launcherOutput: launcher.output,
          terminatedFor: this.#killedBy,
          killedBy: measured.killedBy,
          killedWith: this.#killedWith,
          commandPath: spec.env.PATH,
          optionOf: (path) => optionOfPath(host.filesystem, path),
        },
        readUsernsHostSettings,
        (tasksGone) => readExhaustionFacts(LauncherProcess.running, tasksGone),
      )
      debug(
        `ended after ${duration.toFixed(1)} ms: ${JSON.stringify(ending)}, memoryPeak ${measured.memoryPeak ?? 'n/a'} bytes, cpuTime ${measured.cpuTime ?? 'n/a'} ms`,
      )
      if (ending instanceof Error) {
        ;(ending as SandboxError).command = this.command
        throw ending
      }
      const result: SandboxResult = {
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
      this.emit('exit', result)
      return result
    })
    // A caller that never awaits `result` must not crash its process with an unhandled rejection.
    this.result.catch(() => {})
  }

  /** Whether the IPC channel is open. */
  get connected(): boolean {
    return this.#child.connected
  }

  /** Sends a message over the IPC channel (`stdio` ending in `'ipc'`). */
  send(message: unknown, callback?: (error: Error | null) => void): boolean {
    if (!this.#child.send)
      throw new Error(
        'nsbox: this sandbox has no IPC channel. Spawn it with stdio ending in "ipc".',
      )
    return this.#child.send(message as never, callback)
  }

  /** Closes the IPC channel. */
  disconnect(): void {
    this.#child.disconnect?.()
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
      this.#launcher.kill()
      return true
    }
    return this.#launcher.requestSignal(number)
  }

  #reportedCpuTime(): number | null {
    const report = this.#launcher.control.messages.find((message) => message.type === 'cpu')
    return report?.type === 'cpu' ? report.milliseconds : null
  }

  #terminate(reason: KilledBy): void {
    // Once the init has reported how the command ended, a late limit changes nothing.
    const hasCommandEnded = this.#launcher.control.messages.some(
      (message) => message.type === 'exit' || message.type === 'signal',
    )
    if (this.#hasEnded || this.#killedBy || hasCommandEnded) return
    this.#killedBy = reason
    debug(`killing the sandbox: ${reason}`)
    this.#launcher.kill()
  }
}

/**
 * Everything of a launch up to its plan: the host facts and the plan, a launcher (a spare
 * when one of its shape waits) and its cgroup with the limits written. Throws what failed;
 * nothing of the launch is left then.
 */
function startLaunch(spec: SandboxSpec, io: LaunchIo) {
  const tools = resolveLauncherTools()
  const limits = new SandboxLimits(spec)
  const host = gatherHostFacts(spec, { enabled: io.ipc, serialization: io.serialization })
  const plan = planInit(spec, host)
  const shape: LaunchShape = {
    network: spec.network,
    stdio: io.stdio,
    ipc: io.ipc,
    serialization: io.serialization,
    cgroup: limits.cgroupShape,
  }
  const launcher = takeSpare(shape) ?? LauncherProcess.start(shape, tools)
  // The sandbox would end with this process anyway; its cgroup has to be removed.
  const forgetAtExit = launcher.cgroup ? atProcessExit(() => launcher.endNow()) : () => {}
  try {
    limits.adopt(launcher.cgroup)
  } catch (error) {
    forgetAtExit()
    void launcher.discard()
    throw error
  }
  prepareSpare(shape, tools)
  launcher.claim()
  return { launcher, limits, host, plan, forgetAtExit }
}

function optionOfPath(filesystem: FilesystemFacts, path: string): string | undefined {
  const lists = [
    ['rw', filesystem.rw],
    ['ro', filesystem.ro],
    ['hide', filesystem.hide],
  ] as const
  return lists.find(([, facts]) => facts.some((fact) => fact.path === path))?.[0]
}
