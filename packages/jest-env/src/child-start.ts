import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { type SandboxProcess, type SandboxResult, spawn } from '@nsbox/core'
import type { FileSandboxOptions, LaunchShape, MessageChannel } from '@nsbox/core/runner'

const CHILD_SCRIPT = fileURLToPath(new URL('./child.js', import.meta.url))

/** What a test process's child needs to start: its slot and the paths its sandbox keeps. */
export interface ChildOptions {
  /** `JEST_WORKER_ID` of the files it runs. */
  workerId: number
  /** Absolute host paths the sandbox must keep seeing under its private `/tmp`. */
  keptPaths: string[]
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
  // The child ignores its arguments, but a sandbox keeps the host's copy of every absolute
  // path it is given under /tmp: so Jest's transform cache (by default in /tmp) is shared
  // with the host and the other files rather than rebuilt in each private /tmp.
  const command = channel.command(process.execPath, [
    ...childExecArgv(),
    CHILD_SCRIPT,
    ...options.keptPaths,
  ])
  const child = spawn(command.file, command.args, {
    ...sandbox,
    env: { ...childEnvironment(options), ...command.env },
    extendEnv: false,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return { child, launch: { cwd: process.cwd(), file: command.file, args: command.args } }
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
