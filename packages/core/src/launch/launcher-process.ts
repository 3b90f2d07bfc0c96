import { type ChildProcess, type StdioOptions, spawn as spawnChild } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import type { Readable, Writable } from 'node:stream'
import { type CgroupShape, SandboxCgroup } from '../cgroup/sandbox-cgroup.js'
import type { NetworkMode, StdioSlot } from '../options/types.js'
import { type LauncherTools, planLauncher } from '../plan/launcher.js'
import { ControlLineReader } from './control-messages.js'
import { debug } from './debug.js'
import { formatCommand } from './result.js'

/** Everything about a launch that is fixed when its launcher starts, before its plan. */
export interface LaunchShape {
  /** Only whether the sandbox has a network namespace of its own matters to the launcher. */
  network: NetworkMode
  stdio: [StdioSlot, StdioSlot, StdioSlot]
  ipc: boolean
  serialization: 'json' | 'advanced'
  /** The cgroup the sandbox needs, or `null`. */
  cgroup: CgroupShape | null
}

/** How a launcher process ended: its exit, or the error that kept it from starting. */
export type LauncherEnd =
  | { code: number | null; signal: NodeJS.Signals | null; error?: undefined }
  | { error: Error }

const FIRST_CGROUP_FD = 6
const MAX_LAUNCHER_OUTPUT = 64 * 1024
// What a launch opens at most while it spawns: both ends of six stdio pipes, the cgroup
// files, and libuv's exec-error pipe.
const DESCRIPTORS_PER_SPAWN = 20

/** Two shapes with the same key can use each other's launchers. */
export function shapeKey(shape: LaunchShape): string {
  const cgroup = shape.cgroup
    ? `${shape.cgroup.bases.backend}:${shape.cgroup.controllers.map((name) => `${name}@${shape.cgroup?.bases.bases[name]}`).join(',')}`
    : 'none'
  return [
    shape.network === 'host' ? 'host-net' : 'own-net',
    shape.stdio.join(','),
    shape.ipc ? `ipc-${shape.serialization}` : 'no-ipc',
    cgroup,
  ].join('|')
}

/**
 * A started `unshare` with the nsbox init inside, which has entered the sandbox's cgroup
 * and waits for its plan on the control socket. It reads its control socket and its own
 * stderr from the start, so that nothing it reports is lost, whenever the plan comes.
 */
export class LauncherProcess {
  readonly child: ChildProcess
  /** The sandbox's cgroup, made before the launcher started; `null` without one. */
  readonly cgroup: SandboxCgroup | null
  readonly key: string
  /** What the init reported on the control socket. */
  readonly control: ControlLineReader = new ControlLineReader()
  /** Settles once the launcher has exited, or failed to start; never rejects. */
  readonly ended: Promise<LauncherEnd>
  #output = ''
  #hasEnded = false

  private constructor(shape: LaunchShape, tools: LauncherTools) {
    this.key = shapeKey(shape)
    checkDescriptorHeadroom(DESCRIPTORS_PER_SPAWN)
    this.cgroup = shape.cgroup ? SandboxCgroup.create(shape.cgroup) : null
    let procsFds: number[] = []
    try {
      // Opened here, with this process's credentials, for the init to write: cgroup v2
      // checks a move against the credentials the file was opened with, and inside its
      // user namespace the init could not open a cgroup whose owner is not mapped there
      // (root's sandboxes in a subtree delegated to someone else).
      procsFds = (this.cgroup?.procsFiles ?? []).map((file) => openSync(file, 'w'))
      const launcher = planLauncher(
        shape.network,
        tools,
        procsFds.map((_, index) => FIRST_CGROUP_FD + index),
      )
      debug(`launch: ${formatCommand(launcher.file, launcher.args)}`)
      this.child = spawnChild(launcher.file, launcher.args, {
        cwd: '/',
        env: {},
        stdio: launcherStdio(shape, procsFds),
        serialization: shape.serialization,
      })
    } catch (error) {
      this.cgroup?.removeNow()
      throw error
    } finally {
      for (const fd of procsFds) closeSync(fd)
    }
    // A launcher that could not start (EMFILE, EAGAIN…) says so with an 'error' event on
    // the next tick, and then has no stdio at all.
    this.ended = new Promise<LauncherEnd>((resolve) => {
      this.child.once('error', (error) => {
        this.#hasEnded = true
        for (const stream of this.#streams()) stream?.destroy()
        resolve({ error })
      })
      // Once it has exited and its streams are closed: what its 'close' event means, but
      // Node.js never emits that after disconnect() in the parent (nodejs/node#19433).
      const streamsClosed = this.#streams().flatMap((stream) =>
        stream ? [new Promise((resolve) => stream.once('close', resolve))] : [],
      )
      this.child.once('exit', (code, signal) => {
        this.#hasEnded = true
        // An init that outlived its `unshare` must not run on: see kill().
        this.#releaseInit()
        void Promise.all(streamsClosed).then(() => resolve({ code, signal }))
      })
    })
    LauncherProcess.#running += 1
    void this.ended.then(() => {
      LauncherProcess.#running -= 1
    })
    const control = this.#controlSocket()
    control?.on('error', () => {}) // the init may be gone before a request lands
    control?.setEncoding('utf8')
    control?.on('data', (chunk: string) => this.control.push(chunk))
    const diagnostics = (this.#streams()[2] ?? null) as Readable | null
    diagnostics?.setEncoding('utf8')
    diagnostics?.on('data', (chunk: string) => {
      if (this.#output.length < MAX_LAUNCHER_OUTPUT) this.#output += chunk
    })
  }

  static #running = 0

  /** How many launchers (running sandboxes and spares) of this process have not ended. */
  static get running(): number {
    return LauncherProcess.#running
  }

  /**
   * Creates the cgroup `shape` asks for and starts a launcher in it. Throws
   * `ERR_SETUP_FAILED` when the cgroup cannot be made, and the system error when this
   * process has too few file descriptors left; a launcher that cannot run is reported
   * through {@link ended}.
   */
  static start(shape: LaunchShape, tools: LauncherTools): LauncherProcess {
    return new LauncherProcess(shape, tools)
  }

  /** What `unshare` and the init printed on their own stderr. */
  get output(): string {
    return this.#output
  }

  /** Whether it is still waiting for a plan, with nothing gone wrong so far. */
  get isWaiting(): boolean {
    return (
      !this.#hasEnded &&
      this.child.exitCode === null &&
      this.child.signalCode === null &&
      this.control.messages.length === 0
    )
  }

  /** Sends the sandbox's plan; the init carries it out and starts the command. */
  sendPlan(plan: Buffer): void {
    this.#controlSocket()?.write(plan)
  }

  /** Asks the init to send a signal to the command; `false` when it cannot be asked. */
  requestSignal(signal: number): boolean {
    return this.#controlSocket()?.write(`kill ${signal}\n`) ?? false
  }

  /** Lets the process exit while this launcher waits unused. */
  idle(): void {
    this.child.unref()
    for (const handle of this.#handles()) handle.unref()
  }

  /** Undoes {@link idle}: a launcher in use keeps the process alive until it ends. */
  claim(): void {
    this.child.ref()
    for (const handle of this.#handles()) handle.ref()
  }

  /**
   * Ends the launcher and everything in its sandbox, whatever step it is at: SIGKILL to
   * `unshare`, whose `--kill-child` takes the init with it, and end of file on the control
   * socket, on which the init exits too (and the kernel then kills its PID namespace). The
   * second covers an init that `unshare` had not yet tied to itself when it died: its
   * child sets the parent-death signal only after fork(), so a kill in between leaves the
   * init running, adopted by the host's init.
   */
  kill(): void {
    this.child.kill('SIGKILL')
    this.#releaseInit()
  }

  /**
   * Ends the launcher and its sandbox at once and removes its cgroup, blocking: for a
   * process that is exiting.
   */
  endNow(): void {
    this.kill()
    this.cgroup?.removeNow()
  }

  /** Ends an unused launcher and removes its cgroup. */
  async discard(): Promise<void> {
    this.claim() // so that a caller awaiting this keeps the process alive meanwhile
    this.kill()
    await this.ended
    await this.cgroup?.destroy()
  }

  // Half-closes the control socket: the init reads end of file and exits, while what it
  // still writes (how the command ended) reaches this side.
  #releaseInit(): void {
    const control = this.#controlSocket()
    if (control && !control.writableEnded) control.end()
  }

  #controlSocket(): (Readable & Writable) | null {
    return (this.#streams()[3] as unknown as (Readable & Writable) | null) ?? null
  }

  // A launcher that failed to start has no stdio array.
  #streams(): ChildProcess['stdio'][number][] {
    return this.child.stdio ?? []
  }

  #handles(): { ref(): unknown; unref(): unknown }[] {
    const streams = this.#streams().filter(
      (stream): stream is NonNullable<typeof stream> =>
        stream !== null && typeof (stream as { unref?: unknown }).unref === 'function',
    ) as unknown as { ref(): unknown; unref(): unknown }[]
    return this.child.channel ? [...streams, this.child.channel] : streams
  }
}

/**
 * Throws `EMFILE` (or `ENFILE`) when fewer than `count` file descriptors are free. Node.js
 * leaks the parent's ends of a child's stdio pipes when spawn() runs out of descriptors
 * halfway (it returns before it wraps them in streams), so a launch makes sure first,
 * before anything of it exists. About 20 µs.
 */
function checkDescriptorHeadroom(count: number): void {
  const held: number[] = []
  try {
    for (let index = 0; index < count; index++) held.push(openSync('/dev/null', 'r'))
  } finally {
    for (const fd of held) closeSync(fd)
  }
}

function launcherStdio(shape: LaunchShape, procsFds: readonly number[]): StdioOptions {
  // fd 2 carries nsbox's own diagnostics and fd 3 the control socket; the command's
  // stderr travels on fd 4 and the init moves it to fd 2 just before exec.
  const [stdin, stdout, stderr] = shape.stdio
  const slots: StdioOptions = [
    stdin === 'inherit' ? 0 : stdin,
    stdout === 'inherit' ? 1 : stdout,
    'pipe',
    'pipe',
    stderr === 'inherit' ? 2 : stderr,
  ]
  if (shape.ipc) slots.push('ipc')
  if (procsFds.length > 0) {
    if (!shape.ipc) slots.push('ignore')
    slots.push(...procsFds)
  }
  return slots
}
