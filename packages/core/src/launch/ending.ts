import { constants } from 'node:os'
import {
  ExecFailedError,
  type SandboxError,
  SetupFailedError,
  UsernsBlockedError,
} from '../errors.js'
import {
  diagnoseUsernsFailure,
  isUsernsFailure,
  type UsernsHostSettings,
} from '../probe/userns-diagnosis.js'
import type { ControlMessage } from './control-messages.js'
import { describeExhaustion, type ExhaustionFacts } from './exhaustion.js'
import type { KilledBy } from './result.js'

/** Everything known once the launcher process has exited. */
export interface LaunchEnding {
  file: string
  messages: readonly ControlMessage[]
  launcherExitCode: number | null
  launcherSignal: NodeJS.Signals | null
  /** What `unshare` and the init printed on their own stderr. */
  launcherOutput: string
  /**
   * Set when nsbox itself killed the sandbox for a limit (the timeout, a watchdog sample,
   * a refused fork). It names how the command ended only if the init had not reported an
   * ending of its own first: a command that exited just before the kill was not ended by it.
   */
  terminatedFor: KilledBy | null
  /** Set when the cgroup's counters say a limit stopped the command (an OOM kill, a refused fork). */
  killedBy: 'memory' | 'pids' | null
  /** Set when the caller killed the sandbox with `kill()`. */
  killedWith: NodeJS.Signals | null
  /** `PATH` the command was looked up in, for the not-found message. */
  commandPath: string | undefined
  /** The option (`ro`, `rw`, `hide`) that named a path the setup handles, if one did. */
  optionOf?: (path: string) => string | undefined
  /** The sandbox's `pids` limit, when it has one: a fork it refused is the option's doing. */
  pidsLimit?: number | null
}

/** How the command ended, when it did run. */
export interface CommandEnding {
  exitCode: number | null
  signal: NodeJS.Signals | null
  killedBy: KilledBy | null
}

const SIGNAL_NAMES = new Map(
  Object.entries(constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]),
)
// The first name of a number wins: EAGAIN, not its alias EWOULDBLOCK.
const ERRNO_NAMES = new Map(
  Object.entries(constants.errno)
    .reverse()
    .map(([name, number]) => [number, name]),
)

/** The name of an errno number: `2` → `'ENOENT'`. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `errno ${errno}`
}

/**
 * Decides how a sandbox ended: the command's status, or the error that kept it from
 * running. Pure, so every path is unit-tested; `readSettings` is only called when
 * `unshare` failed to create the namespaces and the cause has to be found, and
 * `readExhaustionFacts` when it could not fork the init.
 */
export function interpretEnding(
  ending: LaunchEnding,
  readSettings: () => UsernsHostSettings,
  readExhaustionFacts: (tasksGone: number) => ExhaustionFacts = () => ({
    openFilesLimit: null,
    processesLimit: null,
    fullPidsCgroup: null,
    runningLaunchers: 0,
  }),
): CommandEnding | SandboxError {
  for (const message of ending.messages) {
    switch (message.type) {
      case 'exit':
        return { exitCode: message.code, signal: null, killedBy: ending.killedBy }
      case 'signal':
        return {
          exitCode: null,
          signal: SIGNAL_NAMES.get(message.signal) ?? 'SIGKILL',
          killedBy: ending.killedBy,
        }
      case 'setup-error':
        return setupError(message.step, message.errno, ending)
      case 'exec-error':
        return execError(ending.file, message.errno, ending.commandPath)
    }
  }
  if (ending.terminatedFor || ending.killedBy || ending.killedWith) {
    return { exitCode: null, signal: 'SIGKILL', killedBy: ending.terminatedFor ?? ending.killedBy }
  }
  // The command ran, and went with its PID namespace when something outside nsbox killed
  // the launcher or the init: the kernel kills a PID namespace's processes with SIGKILL.
  if (ending.messages.some((message) => message.type === 'started')) {
    return { exitCode: null, signal: 'SIGKILL', killedBy: null }
  }
  if (isUsernsFailure(ending.launcherOutput)) {
    const diagnosis = diagnoseUsernsFailure(ending.launcherOutput, readSettings())
    return new UsernsBlockedError(
      diagnosis.blockedBy,
      diagnosis.fix,
      `nsbox: ${diagnosis.message}. To fix: ${diagnosis.fix}.`,
    )
  }
  const forkErrno = launcherForkErrno(ending.launcherOutput)
  // The launcher that could not fork counted in its cgroup, and has exited since.
  if (forkErrno) return describeExhaustion(forkErrno, readExhaustionFacts(1))
  return launcherEndedEarly(ending)
}

// unshare's own words when its fork() of the init failed.
const FORK_ERRNOS: Record<string, string> = {
  'Resource temporarily unavailable': 'EAGAIN',
  'Cannot allocate memory': 'ENOMEM',
}

function launcherForkErrno(output: string): string | null {
  const reason = /^unshare: fork failed: (.+)$/m.exec(output)?.[1]?.trim()
  return (reason && FORK_ERRNOS[reason]) ?? null
}

// What ended the launcher before the command started, in the words of what was seen.
function launcherEndedEarly(ending: LaunchEnding): SetupFailedError {
  const output = ending.launcherOutput.trim()
  const quoted = output ? `: ${output}` : ''
  // unshare 2.38 cannot re-raise SIGKILL on itself and says this instead.
  const initKilled = /^unshare: sigprocmask unblock failed/m.test(output)
  const what = ending.launcherSignal
    ? `its launcher (unshare) was killed by ${ending.launcherSignal}`
    : initKilled
      ? `its init (PID 1) was killed by SIGKILL (${output})`
      : `its launcher ended with exit code ${ending.launcherExitCode}${quoted}`
  const hint =
    ending.launcherSignal || initKilled
      ? 'Something outside nsbox killed it: another process, an OOM killer, or a user.'
      : 'Run `nsbox doctor` to check this host.'
  return new SetupFailedError(
    'launch',
    `nsbox: the sandbox ended before its command started: ${what}. ${hint}`,
  )
}

function setupError(
  step: string,
  errno: number,
  { optionOf, pidsLimit }: LaunchEnding,
): SetupFailedError {
  const name = errnoName(errno)
  if (step === 'fork' && name === 'EAGAIN' && pidsLimit != null) {
    return new SetupFailedError(
      step,
      `nsbox: the command could not be started: the \`pids\` limit of ${pidsLimit} left no room to fork it (EAGAIN). Raise \`pids\`: the sandbox's init and the command count, and so does every thread.`,
    )
  }
  const path = step.slice(step.indexOf(' ') + 1)
  const option = step.includes(' /') ? optionOf?.(path) : undefined
  if (option) {
    const why =
      name === 'ELOOP'
        ? 'a symbolic link took its place after nsbox checked it, as code in another sandbox of this user could plant'
        : name === 'ENOENT'
          ? 'it was removed after nsbox checked it'
          : 'check that this user can reach it'
    return new SetupFailedError(
      step,
      `nsbox: could not set up the \`${option}\` path ${path} (${name}): ${why}. Check the path, or leave it out of \`${option}\`.`,
    )
  }
  const hint =
    name === 'EACCES' || name === 'EPERM'
      ? 'The host refused it; run `nsbox doctor` to see what this host allows.'
      : 'Run `nsbox doctor` to check this host, and report it if the doctor finds nothing.'
  return new SetupFailedError(
    step,
    `nsbox: setting up the sandbox failed at step \`${step}\` (${name}). ${hint}`,
  )
}

function execError(file: string, errno: number, commandPath: string | undefined): ExecFailedError {
  const name = errnoName(errno)
  if (name === 'ENOENT') {
    const where = file.includes('/')
      ? 'It does not exist inside the sandbox.'
      : `Looked in PATH=${commandPath ?? ''}.`
    return new ExecFailedError(
      name,
      `nsbox: command not found in the sandbox: ${file}. ${where} Check the name or give an absolute path.`,
    )
  }
  if (name === 'EACCES') {
    return new ExecFailedError(
      name,
      `nsbox: permission denied executing ${file} in the sandbox. Check that it is executable by your user.`,
    )
  }
  return new ExecFailedError(name, `nsbox: could not execute ${file} in the sandbox (${name}).`)
}
