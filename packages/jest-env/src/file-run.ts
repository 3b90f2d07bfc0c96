import { type ChildProcess, fork } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { isSandboxError, type SandboxProcess, type SandboxResult, spawn } from '@nsbox/core'
import {
  applyDocblock,
  type FileSandboxOptions,
  fileKilledMessage,
  readDocblockOverrides,
} from '@nsbox/core/runner'
import type { Config, Test } from 'jest-runner'
import type {
  ChildMessage,
  JestModules,
  RunFileRequest,
  SerializableError,
  SerializedRunnerContext,
} from './protocol.js'

const CHILD_SCRIPT = fileURLToPath(new URL('./child.js', import.meta.url))
// A child has sent its result and exits on its own; this is only for one that hangs.
const EXIT_GRACE_MS = 5_000

/** How one test file ended: Jest's `TestResult`, or why it has none. */
export type FileOutcome = { ok: true; result: unknown } | { ok: false; error: SerializableError }

/** What running one test file needs. */
export interface FileRunRequest {
  test: Test
  globalConfig: Config.GlobalConfig
  context: SerializedRunnerContext
  modules: JestModules
  workerId: number
  /** The runner's options for every file, before the file's docblock; `null` to run it unsandboxed. */
  sandbox: FileSandboxOptions | null
  /** Receives the test-case events of the file as they happen. */
  onEvent: (name: string, args: unknown) => void
}

/** One test file running in its own process. */
export interface FileRun {
  /** Ends the file's process and everything it started. */
  abort(): void
  /** Settles once the file's process has ended. */
  outcome: Promise<FileOutcome>
}

/**
 * Runs one test file in a fresh sandbox (its `@nsbox` docblock applied over the runner's
 * options) or, with `sandbox: null`, in a plain child process. A file a limit killed, or
 * whose process died before Jest reported on it, ends as a failure that says so.
 */
export function runFile(request: FileRunRequest): FileRun {
  const { test } = request
  const relativePath = path.relative(test.context.config.rootDir, test.path)
  let child: SandboxProcess | ChildProcess
  let fileOptions: FileSandboxOptions = {}
  try {
    if (request.sandbox) {
      const docblock = readDocblockOverrides(readFileSync(test.path, 'utf8'))
      fileOptions = applyDocblock(request.sandbox, docblock, relativePath)
    }
    child = startChild(request, fileOptions)
  } catch (error) {
    return { abort: () => {}, outcome: Promise.resolve(failure(error)) }
  }
  child.stdout?.pipe(process.stdout, { end: false })
  child.stderr?.pipe(process.stderr, { end: false })

  let reported: FileOutcome | undefined
  let hangTimer: NodeJS.Timeout | undefined
  child.on('message', (message: ChildMessage) => {
    if (message.type === 'event') request.onEvent(message.name, message.args)
    else if (!reported) {
      reported =
        message.type === 'result'
          ? { ok: true, result: message.result }
          : { ok: false, error: message.error }
      hangTimer = setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS)
    }
  })
  const ended = ending(child).then(
    ({ exitCode, signal, sandbox }): FileOutcome => {
      clearTimeout(hangTimer)
      if (reported) return reported
      const killed = sandbox && fileKilledMessage(relativePath, sandbox, fileOptions)
      if (killed) return failure(killed)
      const how = signal ? `signal ${signal}` : `exit code ${exitCode}`
      return failure(
        `nsbox: ${relativePath}: its test process ended with ${how} before Jest reported a result.`,
      )
    },
    (error: unknown) => {
      clearTimeout(hangTimer)
      return reported ?? failure(error)
    },
  )
  return { abort: () => child.kill('SIGKILL'), outcome: ended }
}

function startChild(
  request: FileRunRequest,
  fileOptions: FileSandboxOptions,
): SandboxProcess | ChildProcess {
  const env: Record<string, string | undefined> = {
    ...process.env,
    JEST_WORKER_ID: String(request.workerId),
  }
  // Jest's workers colour their messages when Jest's own output is coloured.
  if (env.FORCE_COLOR === undefined && process.stdout.hasColors?.()) env.FORCE_COLOR = '1'
  // As Jest's workers: the same flags (--experimental-vm-modules…), but no debugger.
  const execArgv = process.execArgv.filter((flag) => !/^--(inspect|debug)/.test(flag))
  // The child ignores its arguments, but a sandbox keeps the host's copy of every absolute
  // path it is given under /tmp: so Jest's transform cache (by default in /tmp) is shared
  // with the host and the other files rather than rebuilt in each file's private /tmp.
  const keptPaths = [request.test.context.config.cacheDirectory]
  const child = request.sandbox
    ? spawn(process.execPath, [...execArgv, CHILD_SCRIPT, ...keptPaths], {
        ...fileOptions,
        env,
        extendEnv: false,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      })
    : fork(CHILD_SCRIPT, [], { env, execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
  const message: RunFileRequest = {
    type: 'run',
    path: request.test.path,
    config: request.test.context.config,
    globalConfig: request.globalConfig,
    context: request.context,
    moduleMap: request.test.context.moduleMap.toJSON(),
    modules: request.modules,
    workerId: request.workerId,
  }
  child.send(message)
  return child
}

interface Ending {
  exitCode: number | null
  signal: string | null
  /** The sandbox's result; `null` for a plain child process. */
  sandbox: SandboxResult | null
}

function ending(child: SandboxProcess | ChildProcess): Promise<Ending> {
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

// nsbox's own errors say all there is to say; a stack into the runner would be noise
// (an empty one, as Jest prints a missing stack as the whole error object).
function failure(error: unknown): FileOutcome {
  if (typeof error === 'string') return { ok: false, error: { message: error, stack: '' } }
  const { message, stack } = error as Error
  return {
    ok: false,
    error: {
      message: String(message ?? error),
      stack: isSandboxError(error) ? '' : (stack ?? ''),
      type: 'Error',
    },
  }
}
