import { type ChildProcess, type StdioOptions, spawn as spawnChild } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { closeSync } from 'node:fs'
import { constants } from 'node:os'
import type { Readable, Writable } from 'node:stream'
import { InvalidOptionError, type SandboxError, SetupFailedError } from '../errors.js'
import type { SandboxSpec, StdioSlot } from '../options/types.js'
import { encodePlan, type HostFacts, planInit } from '../plan/init-plan.js'
import { planLauncher } from '../plan/launcher.js'
import { readUsernsHostSettings } from '../probe/host-settings.js'
import { resolveLauncherTools } from '../probe/tools.js'
import { ControlLineReader } from './control-messages.js'
import { debug, isDebugEnabled } from './debug.js'
import { interpretEnding } from './ending.js'
import { gatherHostFacts } from './host-facts.js'
import { SandboxLimits } from './limits.js'
import { formatCommand, type KilledBy, type SandboxResult } from './result.js'

/** How a launch connects the command's standard streams. */
export interface LaunchIo {
  stdio: [StdioSlot, StdioSlot, StdioSlot]
  ipc: boolean
  serialization: 'json' | 'advanced'
}

const MAX_LAUNCHER_OUTPUT = 64 * 1024

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

  readonly #child: ChildProcess
  readonly #control: ControlLineReader = new ControlLineReader()
  #killedBy: KilledBy | null = null
  #killedWith: NodeJS.Signals | null = null
  #hasEnded = false

  constructor(spec: SandboxSpec, io: LaunchIo) {
    super()
    const tools = resolveLauncherTools()
    const limits = new SandboxLimits(spec)
    let host: HostFacts
    let procsFds: number[] = []
    try {
      procsFds = limits.openProcsFiles()
      host = gatherHostFacts(
        spec,
        { enabled: io.ipc, serialization: io.serialization },
        procsFds.length,
      )
    } catch (error) {
      for (const fd of procsFds) closeSync(fd)
      void limits.finish()
      throw error
    }
    const plan = planInit(spec, host)
    const launcher = planLauncher(spec.network, tools)
    this.command = formatCommand(spec.file, spec.args)
    debug(`launch: ${formatCommand(launcher.file, launcher.args)}`)
    if (isDebugEnabled()) debug(`plan: ${plan.filter((token) => !token.includes('=')).join(' ')}`)

    const startedAt = performance.now()
    this.#child = spawnChild(launcher.file, launcher.args, {
      cwd: '/',
      env: {},
      stdio: launcherStdio(io, procsFds),
      serialization: io.serialization,
    })
    for (const fd of procsFds) closeSync(fd)
    this.pid = this.#child.pid
    if (this.pid !== undefined) limits.watch(this.pid, (limit) => this.#terminate(limit))
    this.stdin = this.#child.stdin
    this.stdout = this.#child.stdout
    this.stderr = (this.#child.stdio[4] as Readable | null) ?? null

    const control = this.#child.stdio[3] as unknown as (Readable & Writable) | null
    const diagnostics = this.#child.stdio[2] as Readable | null
    control?.on('error', () => {}) // the init may be gone before a kill request lands
    control?.setEncoding('utf8')
    control?.on('data', (chunk: string) => this.#control.push(chunk))
    control?.write(encodePlan(plan))
    let launcherOutput = ''
    diagnostics?.setEncoding('utf8')
    diagnostics?.on('data', (chunk: string) => {
      if (launcherOutput.length < MAX_LAUNCHER_OUTPUT) launcherOutput += chunk
    })

    if (io.ipc) {
      this.#child.on('message', (message) => this.emit('message', message))
      this.#child.on('disconnect', () => this.emit('disconnect'))
    }

    const timer =
      spec.timeoutMs === null
        ? undefined
        : setTimeout(() => this.#terminate('timeout'), spec.timeoutMs)

    this.result = new Promise<SandboxResult>((resolve, reject) => {
      this.#child.on('error', (error) => {
        void limits.finish()
        reject(
          new SetupFailedError(
            'launch',
            `nsbox: could not start the launcher: ${error.message}. Run \`nsbox doctor\`.`,
            { cause: error },
          ),
        )
      })
      this.#child.on('close', async (launcherExitCode, launcherSignal) => {
        this.#hasEnded = true
        clearTimeout(timer)
        const duration = performance.now() - startedAt
        const measured = await limits.finish()
        const ending = interpretEnding(
          {
            file: spec.file,
            messages: this.#control.messages,
            launcherExitCode,
            launcherSignal,
            launcherOutput,
            killedBy: this.#killedBy ?? measured.killedBy,
            killedWith: this.#killedWith,
            commandPath: spec.env.PATH,
          },
          readUsernsHostSettings,
        )
        debug(
          `ended after ${duration.toFixed(1)} ms: ${JSON.stringify(ending)}, memoryPeak ${measured.memoryPeak ?? 'n/a'} bytes, cpuTime ${measured.cpuTime ?? 'n/a'} ms`,
        )
        if (ending instanceof Error) {
          ;(ending as SandboxError).command = this.command
          reject(ending)
          return
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
        resolve(result)
      })
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
   * at once; any other signal reaches the command, which may handle it. Returns `false`
   * when the sandbox has already ended.
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
      return this.#child.kill('SIGKILL')
    }
    const control = this.#child.stdio[3] as unknown as Writable | null
    return control?.write(`kill ${number}\n`) ?? false
  }

  #reportedCpuTime(): number | null {
    const report = this.#control.messages.find((message) => message.type === 'cpu')
    return report?.type === 'cpu' ? report.milliseconds : null
  }

  #terminate(reason: KilledBy): void {
    // Once the init has reported how the command ended, a late limit changes nothing.
    const hasCommandEnded = this.#control.messages.some(
      (message) => message.type === 'exit' || message.type === 'signal',
    )
    if (this.#hasEnded || this.#killedBy || hasCommandEnded) return
    this.#killedBy = reason
    debug(`killing the sandbox: ${reason}`)
    this.#child.kill('SIGKILL')
  }
}

function launcherStdio(io: LaunchIo, procsFds: readonly number[]): StdioOptions {
  // fd 2 carries nsbox's own diagnostics and fd 3 the control socket; the command's
  // stderr travels on fd 4 and the init moves it to fd 2 just before exec.
  const [stdin, stdout, stderr] = io.stdio
  const slots: StdioOptions = [
    stdin === 'inherit' ? 0 : stdin,
    stdout === 'inherit' ? 1 : stdout,
    'pipe',
    'pipe',
    stderr === 'inherit' ? 2 : stderr,
  ]
  if (io.ipc) slots.push('ipc')
  if (procsFds.length > 0) {
    if (!io.ipc) slots.push('ignore')
    slots.push(...procsFds)
  }
  return slots
}
