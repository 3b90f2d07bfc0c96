import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { type SandboxProcess, type SandboxResult, spawn } from '@nsbox/core'
import type { FileSandboxOptions, LaunchShape, MessageChannel } from '@nsbox/core/runner'
import type { SharedPaths } from './shared-paths.js'

const CHILD_SCRIPT = fileURLToPath(new URL('./child.js', import.meta.url))

/** What a test process's child needs to start: its slot and the paths its sandbox keeps. */
export interface ChildOptions {
  /** `JEST_WORKER_ID` of the files it runs. */
  workerId: number
  /** Host paths under `/tmp` the sandbox must see: Jest's cache, the trees modules load from. */
  shared: SharedPaths
}

/** How a test process's child ended. */
export interface Ending {
  exitCode: number | null
  signal: string | null
  /** The sandbox's result; `null` for a plain child process. */
  sandbox: SandboxResult | null
}

function childEnvironment(options: ChildOptions): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    JEST_WORKER_ID: String(options.workerId),
  }
  // Jest's workers colour their messages when Jest's own output is coloured.
  if (env.FORCE_COLOR === undefined && process.stdout.hasColors?.()) env.FORCE_COLOR = '1'
  return env
}

// As Jest's workers: the same flags (--experimental-vm-modules…), but no debugger.
function childExecArgv(): string[] {
  return process.execArgv.filter((flag) => !/^--(inspect|debug)/.test(flag))
}

/** Starts the child plainly, as Jest's own workers start, for hosts without sandboxes. */
export function startPlainChild(options: ChildOptions): ChildProcess {
  return fork(CHILD_SCRIPT, [], {
    env: childEnvironment(options),
    execArgv: childExecArgv(),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  })
}

/**
 * Starts the child in a sandbox, on `channel`; returns it with how it was started (for
 * the host's checks of what it asks for).
 */
export function startSandboxedChild(
  options: ChildOptions,
  sandbox: FileSandboxOptions,
  channel: MessageChannel,
): { child: SandboxProcess; launch: LaunchShape } {
  // No arguments of its own, as Jest's workers: what it needs of /tmp is named as options.
  const command = channel.command(process.execPath, [...childExecArgv(), CHILD_SCRIPT])
  const child = spawn(command.file, command.args, {
    ...sandbox,
    ...withSharedPaths(sandbox, options.shared),
    env: { ...childEnvironment(options), ...command.env },
    extendEnv: false,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return { child, launch: { cwd: process.cwd(), file: command.file, args: command.args } }
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

/** Settles when the child has ended; rejects when it could not start. */
export function ending(child: SandboxProcess | ChildProcess): Promise<Ending> {
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
