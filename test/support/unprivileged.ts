import { fileURLToPath } from 'node:url'
import type { HostSupport, RunOptions, SandboxResult } from '@nsbox/core'
import { execa, type ResultPromise } from 'execa'
import { describe } from 'vitest'
import { type TestUser, testUser } from './test-user.js'

/** The helper script that calls `run()` in a process of the test user. */
export const childScript = fileURLToPath(new URL('./sandbox-child.mjs', import.meta.url))

/** A {@link SandboxResult}, or the error `run()` rejected with. */
export type RunReport =
  | SandboxResult
  | { error: { name: string; code: string; message: string; option?: string } }

// A user and PID namespace of its own (uid and gid mapped to themselves), with its own
// /proc: what a process in a container that shares the host's cgroup tree is like.
const OWN_PID_NAMESPACE = [
  'unshare',
  '--user',
  '--map-current-user',
  '--pid',
  '--fork',
  '--mount-proc',
]

function asTestUser(
  request: object,
  user: TestUser = testUser(),
  hostEnv: Record<string, string> = {},
  prefix: readonly string[] = [],
): ResultPromise<{ uid: number; gid: number; env: Record<string, string>; reject: false }> {
  const [file = process.execPath, ...args] = [
    ...prefix,
    process.execPath,
    childScript,
    JSON.stringify(request),
  ]
  return execa(file, args, {
    uid: user.uid,
    gid: user.gid,
    env: { ...hostEnv, HOME: user.home, USER: user.name, LOGNAME: user.name },
    reject: false,
  })
}

async function reportOf<T>(
  request: object,
  user?: TestUser,
  hostEnv?: Record<string, string>,
): Promise<T> {
  const child = await asTestUser(request, user, hostEnv)
  if (child.exitCode !== 0)
    throw new Error(`the sandbox helper failed (${child.exitCode}): ${child.stderr}`)
  return JSON.parse(child.stdout) as T
}

/**
 * Runs `run(file, args, options)` as the unprivileged test user; the one way tests start
 * sandboxes. `hostEnv` is added to the environment of the process that calls `run`.
 */
export function runAsUser(
  file: string,
  args: string[] = [],
  options: RunOptions = {},
  user?: TestUser,
  hostEnv?: Record<string, string>,
): Promise<RunReport> {
  return reportOf({ mode: 'run', file, args, options }, user, hostEnv)
}

/** Like {@link runAsUser} for a result that must exist: fails the test on an error report. */
export async function sandboxAsUser(
  file: string,
  args: string[] = [],
  options: RunOptions = {},
  user?: TestUser,
  hostEnv?: Record<string, string>,
): Promise<SandboxResult> {
  const report = await runAsUser(file, args, options, user, hostEnv)
  if ('error' in report)
    throw new Error(`expected a result, got ${report.error.code}: ${report.error.message}`)
  return report
}

/**
 * Round-trips a `Map` over a sandboxed Node.js IPC channel with 'advanced' serialization;
 * then the sandboxed child, or the caller, disconnects.
 */
export function ipcRoundTripAsUser(disconnectFrom: 'child' | 'parent' = 'child'): Promise<{
  isMap: boolean
  answer: string
  exitCode: number
}> {
  return reportOf({ mode: 'ipc', disconnectFrom })
}

const cliEntry = fileURLToPath(new URL('../../packages/core/dist/cli/main.js', import.meta.url))

/** Runs the `nsbox` CLI as the unprivileged test user. */
export async function cliAsUser(
  args: string[],
  user: TestUser = testUser(),
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const child = await execa(process.execPath, [cliEntry, ...args], {
    uid: user.uid,
    gid: user.gid,
    env: { HOME: user.home, USER: user.name, PATH: process.env.PATH ?? '/usr/bin:/bin' },
    extendEnv: false,
    reject: false,
  })
  return { exitCode: child.exitCode ?? -1, stdout: child.stdout, stderr: child.stderr }
}

/** Starts several sandboxes at once in one process of the test user. */
export function runConcurrentlyAsUser(
  runs: { file: string; args: string[]; options?: RunOptions }[],
): Promise<RunReport[]> {
  return reportOf({ mode: 'concurrent', runs })
}

/**
 * Starts a sandbox in a helper process of the test user and resolves once its command
 * printed "ready"; the helper then waits, so the test can kill it.
 */
export async function holdAsUser(
  file: string,
  args: string[],
  options: RunOptions = {},
  user?: TestUser,
): Promise<{
  helper: ReturnType<typeof asTestUser>
  launcherPid: number
  spareLauncherPids: number[]
}> {
  const helper = asTestUser({ mode: 'hold', file, args, options }, user)
  const [launcherPid, spareLauncherPids] = await new Promise<[number, number[]]>(
    (resolve, reject) => {
      helper.stdout?.on('data', (chunk: Buffer) => {
        const match = /ready (\d+) ([\d,]*)/.exec(String(chunk))
        if (match)
          resolve([Number(match[1]), (match[2] ?? '').split(',').filter(Boolean).map(Number)])
      })
      helper.then(
        (result) =>
          reject(new Error(`the helper ended before the sandbox was ready: ${result.stderr}`)),
        reject,
      )
    },
  )
  return { helper, launcherPid, spareLauncherPids }
}

/** Starts a sandbox as the test user, sends `signal` once the command printed "ready", returns the result. */
export function killAfterReadyAsUser(
  file: string,
  args: string[],
  signal: NodeJS.Signals,
): Promise<SandboxResult> {
  return reportOf({ mode: 'hold', file, args, killAfterReady: signal })
}

/** Starts a sandbox as the test user, sends `signal` right after `spawn()` returned, returns the result. */
export function killAtOnceAsUser(
  file: string,
  args: string[],
  signal: NodeJS.Signals,
): Promise<SandboxResult> {
  return reportOf({ mode: 'hold', file, args, killAtOnce: signal })
}

/**
 * As root: runs `run(file, args, options)` as `user` through
 * `nsbox delegate --user <user> -- …`, then undoes a lasting (cgroup v1) delegation.
 */
export async function runDelegatedAsUser(
  user: TestUser,
  file: string,
  args: string[],
  options: RunOptions,
): Promise<RunReport> {
  const request = JSON.stringify({ mode: 'run', file, args, options })
  const delegate = [cliEntry, 'delegate', '--user', user.name]
  try {
    const child = await execa(
      process.execPath,
      [...delegate, '--', process.execPath, childScript, request],
      {
        reject: false,
      },
    )
    if (child.exitCode !== 0)
      throw new Error(`nsbox delegate failed (${child.exitCode}): ${child.stderr}`)
    return JSON.parse(child.stdout) as RunReport
  } finally {
    await execa(process.execPath, [...delegate, '--undo'])
  }
}

/** Runs `count` sandboxes, `concurrency` at a time, in one process of the test user. */
export function runManyAsUser(
  count: number,
  concurrency: number,
  file: string,
  args: string[],
  options: RunOptions,
): Promise<{ results: number; failures: string[]; pid: number }> {
  return reportOf({ mode: 'many', count, concurrency, file, args, options })
}

/**
 * What {@link killRacesAsUser} reports: the launches whose result was wrong, by kind and
 * delay (an unsettled one with what a second `kill()` then returned).
 */
export interface RacesReport {
  launches: number
  /** Results that had not settled 5 s after the kill or timeout. */
  unsettled: string[]
  /** Results that do not say how the command really ended. */
  untruthful: string[]
  /** With `leftovers`: what is left of the helper's sandboxes once its spares are closed. */
  leftovers?: { launchers: number[]; fdsBefore: number; fdsAfter: number; pid: number }
}

/**
 * In one process of the test user, `count` sandboxes one after another, each killed with
 * `kill('SIGKILL')` or by a `timeout` 0 to `maxDelayMs` ms into its start; half of them
 * run an endless command, half one that exits at once. Their commands carry `marker`;
 * `options` are added to each launch's, and `leftovers` reports what is left afterwards.
 */
export function killRacesAsUser(
  request: {
    count: number
    maxDelayMs: number
    marker: string
    options?: RunOptions
    leftovers?: boolean
  },
  hostEnv?: Record<string, string>,
): Promise<RacesReport> {
  return reportOf({ mode: 'races', ...request }, undefined, hostEnv)
}

/**
 * In one process of the test user whose open-file limit is lowered to `openFiles`,
 * `count` sandboxes at once; reports each result or error, and the process's open
 * descriptors before and after (once its spares are closed).
 */
export function outOfFilesAsUser(request: {
  openFiles: number
  count: number
  file: string
  args: string[]
  options?: RunOptions
}): Promise<{ pid: number; reports: RunReport[]; fdsBefore: number; fdsAfter: number }> {
  return reportOf({ mode: 'out-of-files', ...request })
}

/**
 * In one process of the test user that has moved itself into a pids cgroup under
 * `pidsParent` whose `pids.max` leaves room for `headroom` more tasks, one sandbox,
 * without spares: with 0, the launcher cannot start; with 1, it cannot fork its init.
 */
export function outOfProcessesAsUser(request: {
  pidsParent: string
  headroom: number
  file: string
  args: string[]
  options?: RunOptions
}): Promise<{ report: RunReport; cgroup: string }> {
  return reportOf({ mode: 'out-of-processes', ...request }, undefined, { NSBOX_SPARES: '0' })
}

/**
 * Starts a sandbox as the test user and, once its command printed "ready", SIGKILLs its
 * launcher (`unshare`) or the init under it from outside nsbox; returns the result.
 */
export function killedFromOutsideAsUser(
  target: 'unshare' | 'init',
  file: string,
  args: string[],
): Promise<RunReport> {
  return reportOf({ mode: 'killed-from-outside', target, file, args })
}

/** A helper process of the test user that reports in JSON lines and waits to be told. */
export interface Conversation {
  /** The next line the helper prints, parsed as JSON. */
  next<T>(): Promise<T>
  /** Writes one line to the helper's stdin. */
  tell(line: string): void
  /** Settles once the helper has exited; rejects when it failed. */
  done: Promise<void>
}

function converseAsUser(
  request: object,
  options: { hostEnv?: Record<string, string>; ownPidNamespace?: boolean } = {},
): Conversation {
  const prefix = options.ownPidNamespace ? OWN_PID_NAMESPACE : []
  const helper = asTestUser(request, undefined, options.hostEnv, prefix)
  const lines: string[] = []
  const waiting: ((line: string) => void)[] = []
  let pending = ''
  helper.stdout?.on('data', (chunk: Buffer) => {
    pending += String(chunk)
    for (let newline = pending.indexOf('\n'); newline !== -1; newline = pending.indexOf('\n')) {
      const line = pending.slice(0, newline)
      pending = pending.slice(newline + 1)
      const waiter = waiting.shift()
      if (waiter) waiter(line)
      else lines.push(line)
    }
  })
  const done = helper.then((result) => {
    if (result.exitCode !== 0)
      throw new Error(`the sandbox helper failed (${result.exitCode}): ${result.stderr}`)
  })
  return {
    next: <T>() =>
      new Promise<T>((resolve, reject) => {
        const line = lines.shift()
        if (line !== undefined) return resolve(JSON.parse(line) as T)
        waiting.push((next) => resolve(JSON.parse(next) as T))
        done.then(() => reject(new Error('the sandbox helper ended without a report')), reject)
      }),
    tell: (line) => helper.stdin?.write(`${line}\n`),
    done,
  }
}

/**
 * Holds a sandbox in a process of the test user (in a PID namespace of its own when
 * `ownPidNamespace`): first reports its cgroup directories, then, once told, ends it and
 * reports whether it had ended before.
 */
export function holdUntilToldAsUser(
  file: string,
  args: string[],
  options: RunOptions,
  where: { ownPidNamespace?: boolean } = {},
): Conversation {
  return converseAsUser({ mode: 'hold-until-told', file, args, options }, where)
}

/**
 * A long-lived process of the test user: one sandbox with `options`, then (told a JSON
 * list of cgroup directories) more until those are gone; reports `{ launches, left }`.
 */
export function reapLaterAsUser(options: RunOptions): Conversation {
  return converseAsUser({ mode: 'reap-later', options })
}

/**
 * A process of the test user in a memory cgroup of its own under `memoryParent`, with a
 * sandbox running; reports `{ own, cgroups }`, then (told, once root took `own` over)
 * ends the sandbox, starts another and reports both with its warnings.
 */
export function ownerChangedAsUser(memoryParent: string): Conversation {
  return converseAsUser({ mode: 'owner-changed', memoryParent }, { hostEnv: { NSBOX_SPARES: '0' } })
}

/**
 * In one process of the test user, `count` sandboxes of `sleep 10` started at once with a
 * timeout of `timeoutMs`; reports what ended them, how late the latest result settled,
 * and the longest turn of that process's event loop meanwhile.
 */
export function timeoutBurstAsUser(
  count: number,
  timeoutMs: number,
): Promise<{ killedBy: string[]; latestMs: number; longestTurnMs: number }> {
  return reportOf({ mode: 'timeout-burst', count, timeoutMs })
}

/** What a `ChildProcess`-style caller of `spawn()` sees: `'exit'`'s arguments, and `send()` without IPC. */
export function processShapeAsUser(): Promise<{
  exitArgs: unknown[]
  sendError: { name: string; code: string; message: string } | null
}> {
  return reportOf({ mode: 'process-shape' })
}

/** Like {@link runAsUser}, with the warnings the calling process got. */
export function runWithWarningsAsUser(
  file: string,
  args: string[],
  options: RunOptions,
): Promise<{ report: RunReport; warnings: { code: string; message: string }[] }> {
  return reportOf({ mode: 'run-with-warnings', file, args, options })
}

/** One kind of launch in {@link soakAsUser}: what it runs and how it must end. */
export interface SoakVariant {
  file: string
  args: string[]
  options?: RunOptions
  expect: { exitCode: number | null; signal: string | null; killedBy: string | null }
}

/** What {@link soakAsUser} reports. */
export interface SoakReport {
  pid: number
  launches: number
  /** The first results that did not end as their variant must, and how many did not. */
  failures: string[]
  failureCount: number
  /** Sandbox launchers of the helper still running after its spares were closed. */
  launchersLeft: number[]
  /** The helper's open descriptors after one warm-up sandbox, and after the soak. */
  fdsBefore: number
  fdsAfter: number
}

/**
 * In one process of the test user, `count` sandboxes through `concurrency` lanes, cycling
 * through `variants`; `hostEnv` is added to that process's environment (such as a
 * `TMPDIR` of the test's own, to see that nothing is left there).
 */
export function soakAsUser(
  request: { count: number; concurrency: number; variants: SoakVariant[] },
  hostEnv?: Record<string, string>,
): Promise<SoakReport> {
  return reportOf({ mode: 'soak', ...request }, undefined, hostEnv)
}

/** What the helper's `spares` mode reports. */
export interface SparesReport {
  pid: number
  first: RunReport
  /** Launchers of the helper once the first sandbox had ended: its spare. */
  spares: number[]
  /** The cgroup directories the spare's init had entered. */
  spareCgroups: string[]
  secondLauncher?: number
  second?: RunReport & { stdout: string }
  launchersLeft?: number[]
  cgroupsLeft?: string[]
  /** This process's SIGTERM listeners a moment after the spares were closed. */
  sigtermListeners?: number
}

/**
 * In one process of the test user: a sandbox, then (`after: 'second'`) a second one of the
 * same kind in a fresh directory under `tmpParent`, then `closeSpares()`; or (`'idle'`)
 * waits for the spare to end by itself; or (`'exit'`) exits with the spare waiting.
 */
export function sparesAsUser(
  request: {
    firstOptions?: RunOptions
    after: 'second' | 'idle' | 'exit'
    tmpParent?: string
    second?: { file: string; args: string[] }
    secondOptions?: RunOptions
  },
  hostEnv?: Record<string, string>,
): Promise<SparesReport> {
  return reportOf({ mode: 'spares', ...request }, undefined, hostEnv)
}

/** What `probe()` reports for a user (default: the test user). */
export function probeAsUser(user?: TestUser): Promise<HostSupport> {
  return reportOf({ mode: 'probe' }, user)
}

let support: Promise<{ canSandbox: boolean; userNamespaces: { message?: string } }> | undefined

/** Whether the test user can start sandboxes on this host (probed once per test file). */
export function canSandboxAsUser(): Promise<boolean> {
  support ??= reportOf({ mode: 'probe' })
  return support.then((found) => {
    if (!found.canSandbox && process.env.NSBOX_MUST_WORK === '1') {
      throw new Error(
        `NSBOX_MUST_WORK=1 but sandboxes cannot start here: ${found.userNamespaces.message}`,
      )
    }
    return found.canSandbox
  })
}

/**
 * `describe` for tests that start real sandboxes: skipped on a host that cannot start
 * them, and a failure instead when `NSBOX_MUST_WORK=1` (as in CI).
 */
export async function describeWithSandboxes(name: string, body: () => void): Promise<void> {
  describe.skipIf(!(await canSandboxAsUser()))(name, body)
}
