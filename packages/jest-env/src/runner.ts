import { readFileSync } from 'node:fs'
import path from 'node:path'
import { InvalidOptionError, probe } from '@nsbox/core'
import {
  applyDocblock,
  checkRunnerVersion,
  type FileSandboxOptions,
  fileTimeoutMs,
  type HostProblem,
  hostProblem,
  type ResolvedTestSandboxOptions,
  readDocblockOverrides,
  resolveTestSandboxOptions,
  SUPPORTED_JEST,
  type TestSandboxOptions,
  unsupportedHostError,
  warnUnsandboxed,
} from '@nsbox/core/runner'
import Emittery from 'emittery'
import type {
  Config,
  Test,
  TestEvents,
  TestRunnerContext,
  TestRunnerOptions,
  TestWatcher,
  UnsubscribeFn,
} from 'jest-runner'
import pLimit from 'p-limit'
import { locateJestModules, runningJestVersion } from './jest-modules.js'
import { ProjectPayloads } from './project-payloads.js'
import { type JestModules, type SerializedRunnerContext, serializeContext } from './protocol.js'
import { jestRunnerFiles, withRunnerFilesReadOnly } from './runner-files.js'
import { type SharedPaths, sharedPaths } from './shared-paths.js'
import { StartedAhead, type StartedFile } from './started-ahead.js'
import { type FileOutcome, type FileRequest, failure, TestProcess } from './test-process.js'

/**
 * Options of the Jest runner: the limits and isolation every test file's sandbox starts
 * with, and what to do on a host that cannot start sandboxes (the same options, with the
 * same defaults, as the Vitest plugin's), and how long a sandbox lives.
 */
export interface NsboxRunnerOptions extends TestSandboxOptions {
  /**
   * `'file'` (default): every test file gets a fresh sandbox and process, started ahead
   * while the files before it run, which runs that one file and ends. `'worker'`: like
   * Jest's own workers, a sandbox runs one file after another (up to `--maxWorkers` at
   * once); between two files it ends what the first left running and empties `/tmp`, but
   * the worker's process and heap (a server a test left listening), PID space, loopback
   * and memory cap carry over. Files with an `@nsbox` docblock still get a sandbox of
   * their own. Faster for many small files, as it saves Jest's start-up in every file.
   */
  isolate?: 'file' | 'worker'
}

const OWNER = 'the Jest runner @nsbox/jest-env'
const HOW_TO_WARN =
  "give the runner the option onUnsupported: 'warn' (runner: ['@nsbox/jest-env', { onUnsupported: 'warn' }])"

/**
 * Validates the runner's options; throws `ERR_INVALID_OPTION` naming the option.
 *
 * @param owner - How the user passed them, for messages.
 */
export function resolveRunnerOptions(
  options: unknown,
  owner: string,
): ResolvedTestSandboxOptions & { isolate: 'file' | 'worker' } {
  const { isolate = 'file', ...sandboxOptions } = (options ?? {}) as NsboxRunnerOptions
  if (isolate !== 'file' && isolate !== 'worker') {
    throw new InvalidOptionError(
      'isolate',
      `nsbox: expected the \`isolate\` option of ${owner} to be 'file' or 'worker', got ${JSON.stringify(isolate)}.`,
    )
  }
  return { ...resolveTestSandboxOptions(sandboxOptions, owner, ['isolate']), isolate }
}

let hostCheck: Promise<HostProblem | null> | undefined

// How one file runs: in which sandbox, whether in its worker's, and for how long.
interface FilePlan {
  sandbox: FileSandboxOptions | null
  runnerFiles: string[]
  reuse: boolean
  timeoutMs: number | null
}

// One file's turn: what it reports to, and what its process is sent.
interface FileRun {
  test: Test
  worker: { id: number; process: TestProcess | null }
  running: Set<TestProcess>
  ending: Set<Promise<void>>
  onEvent: (name: string, args: unknown) => void
  context: SerializedRunnerContext
  projects: ProjectPayloads
}

function fileRequest(file: FileRun, timeoutMs: number | null): FileRequest {
  return {
    path: file.test.path,
    project: file.projects.of(file.test),
    context: file.context,
    workerId: file.worker.id,
    relativePath: relativePathOf(file.test),
    timeoutMs,
    onEvent: file.onEvent,
  }
}

function relativePathOf(test: Test): string {
  return path.relative(test.context.config.rootDir, test.path)
}

/**
 * A Jest runner (`runner: '@nsbox/jest-env'`) that runs every test file in a fresh nsbox
 * sandbox: its own PID space, loopback, `/tmp` and hostname, and a memory cap. Inside,
 * the file runs with Jest's own runner, of the installed version; its test-case events
 * stream back, so reporters show progress as usual. A file killed by a limit fails as
 * that file ("Test suite failed to run" and a message naming the limit and the peak),
 * once, and the run goes on. What a file's process reports is checked before Jest acts on
 * it (coverage and stacks naming files its sandbox cannot read, console output over
 * `maxConsoleSize`), each of its messages is capped at `maxMessageSize`, and the
 * runner's own files are read-only to it (`protectRunner`).
 */
export class NsboxRunner {
  /** Jest subscribes to the runner's events rather than passing callbacks. */
  readonly supportsEventEmitters = true
  /** Files run up to `--maxWorkers` at a time. */
  readonly isSerial = false
  readonly #globalConfig: Config.GlobalConfig
  readonly #context: TestRunnerContext
  readonly #options: ResolvedTestSandboxOptions
  readonly #isolate: 'file' | 'worker'
  // Emittery's emit() settles once every listener has, as Jest's own runner relies on.
  readonly #events = new Emittery<TestEvents>()
  readonly #modules = new Map<string, JestModules>()
  readonly #shared = new Map<string, SharedPaths>()

  /**
   * Called by Jest.
   *
   * @param globalConfig - Jest's global configuration.
   * @param context - What changed, in `--onlyChanged` and watch runs.
   * @param runnerOptions - The options from `runner: ['@nsbox/jest-env', { … }]`
   *   (Jest 30.4.1 and later); see {@link NsboxRunnerOptions}. Throws `ERR_INVALID_OPTION`.
   */
  constructor(
    globalConfig: Config.GlobalConfig,
    context: TestRunnerContext,
    runnerOptions?: NsboxRunnerOptions,
  ) {
    // Jest 28 and older would run the files through this runner with a protocol it does not know.
    checkRunnerVersion('jest', runningJestVersion(globalConfig.rootDir), SUPPORTED_JEST, OWNER)
    this.#globalConfig = globalConfig
    this.#context = context
    const resolved = resolveRunnerOptions(runnerOptions, OWNER)
    this.#isolate = resolved.isolate
    this.#options = resolved
  }

  /** Subscribes to one of the events Jest's reporters are fed from. */
  on<Name extends keyof TestEvents>(
    name: Name,
    listener: (data: TestEvents[Name]) => void | Promise<void>,
  ): UnsubscribeFn {
    return this.#events.on(name, listener)
  }

  /** Runs the test files, each in a sandbox, and reports them through the events. */
  async runTests(tests: Test[], watcher: TestWatcher, _options: TestRunnerOptions): Promise<void> {
    const base = await this.#sandboxOptions()
    // Jest asks for a serial run also when it guesses that starting workers would cost more
    // than the tests; here every file runs in a process of its own anyway, so only
    // --maxWorkers (which --runInBand sets to 1) limits how many run at once.
    const concurrency = Math.max(1, this.#globalConfig.maxWorkers)
    const limit = pLimit(concurrency)
    const idleWorkers = Array.from({ length: concurrency }, (_, index) => ({
      id: index + 1,
      process: null as TestProcess | null,
    }))
    const running = new Set<TestProcess>()
    // Processes whose file is done, on their way out while the next files run.
    const ending = new Set<Promise<void>>()
    const projects = new ProjectPayloads(this.#globalConfig, (rootDir) =>
      this.#jestModules(rootDir),
    )
    const context = serializeContext(this.#context)
    // A file's process starts while the files before it run, one ahead for each slot.
    const ahead =
      this.#isolate === 'file'
        ? new StartedAhead((test, workerId) => this.#startFile(test, workerId, base, projects))
        : null
    const stopWatching = watcher.on('change', (state) => {
      if (!state.interrupted) return
      for (const testProcess of running) testProcess.kill()
      ahead?.kill()
    })
    const runOne = async (test: Test, index: number): Promise<void> => {
      if (watcher.isInterrupted()) return
      const upcoming = tests[index + concurrency]
      if (upcoming) ahead?.startAhead(upcoming, (index % concurrency) + 1)
      const worker = idleWorkers.shift() ?? { id: 1, process: null }
      try {
        await this.#events.emit('test-file-start', [test])
        // Test-case events reach Jest in order, and before the file's own result.
        let reported = Promise.resolve()
        const onEvent = (name: string, args: unknown) => {
          reported = reported.then(() =>
            this.#events.emit(name as keyof TestEvents, args as TestEvents[keyof TestEvents]),
          )
        }
        const file = { test, worker, running, ending, onEvent, context, projects }
        const outcome = ahead
          ? await this.#runStarted(file, ahead.take(test, worker.id))
          : await this.#runInWorker(file, base)
        await reported
        if (outcome.ok) {
          const result = outcome.result as TestEvents['test-file-success'][1]
          await this.#events.emit('test-file-success', [test, result])
        } else {
          await this.#events.emit('test-file-failure', [test, outcome.error])
        }
      } finally {
        idleWorkers.push(worker)
      }
    }
    try {
      await Promise.all(tests.map((test, index) => limit(() => runOne(test, index))))
    } finally {
      stopWatching()
      await Promise.all([
        ahead?.close(),
        ...ending,
        ...idleWorkers.map((worker) => worker.process?.close()),
      ])
    }
  }

  // Starts a file's process in the sandbox planned for it, and has it prepare.
  async #startFile(
    test: Test,
    workerId: number,
    base: FileSandboxOptions | null,
    projects: ProjectPayloads,
  ): Promise<StartedFile> {
    const plan = this.#planFile(test, relativePathOf(test), base)
    const testProcess = await this.#startProcess(test, workerId, plan)
    testProcess.prepare(projects.of(test))
    return { testProcess, timeoutMs: plan.timeoutMs }
  }

  // Runs a file in the process started for it, which ends with it.
  async #runStarted(file: FileRun, started: Promise<StartedFile>): Promise<FileOutcome> {
    let testProcess: TestProcess | null = null
    try {
      const start = await started
      testProcess = start.testProcess
      file.running.add(testProcess)
      const outcome = await testProcess.run(fileRequest(file, start.timeoutMs))
      const closed = testProcess.close().finally(() => file.ending.delete(closed))
      file.ending.add(closed)
      return outcome
    } catch (error) {
      return failure(error)
    } finally {
      if (testProcess) file.running.delete(testProcess)
    }
  }

  // Runs one file in its worker's sandbox (isolate: 'worker'), or in a fresh one when its
  // docblock asks for a sandbox of its own.
  async #runInWorker(file: FileRun, base: FileSandboxOptions | null): Promise<FileOutcome> {
    const { test, worker } = file
    let testProcess: TestProcess | null = null
    try {
      const plan = this.#planFile(test, relativePathOf(test), base)
      testProcess =
        plan.reuse && worker.process && !worker.process.hasEnded
          ? worker.process
          : await this.#startProcess(test, worker.id, plan)
      if (plan.reuse) worker.process = testProcess
      file.running.add(testProcess)
      const outcome = await testProcess.run(fileRequest(file, plan.timeoutMs))
      if (!plan.reuse) await testProcess.close()
      return outcome
    } catch (error) {
      return failure(error)
    } finally {
      if (testProcess) file.running.delete(testProcess)
    }
  }

  #startProcess(test: Test, workerId: number, plan: FilePlan): Promise<TestProcess> {
    return TestProcess.start({
      workerId,
      sandbox: plan.sandbox,
      shared: this.#sharedPaths(test.context.config),
      scrub: plan.reuse && plan.sandbox !== null,
      boundary: this.#options.boundary,
      runnerFiles: plan.runnerFiles,
    })
  }

  // Plans one file: its docblock applied, the runner's files read-only.
  #planFile(test: Test, relativePath: string, base: FileSandboxOptions | null): FilePlan {
    const { boundary } = this.#options
    const overrides = base ? readDocblockOverrides(readFileSync(test.path, 'utf8')) : []
    const options = base
      ? applyDocblock(base, overrides, relativePath, boundary.docblock)
      : this.#options.sandbox
    // The timeout is the file's, not its sandbox's: the runner keeps it.
    const { timeout: _timeout, ...sandbox } = options
    const { config } = test.context
    const runnerFiles =
      base && boundary.protectRunner ? jestRunnerFiles(config, this.#globalConfig) : []
    return {
      sandbox: base ? withRunnerFilesReadOnly(sandbox, runnerFiles, config.cacheDirectory) : null,
      runnerFiles,
      reuse: this.#isolate === 'worker' && overrides.length === 0,
      timeoutMs: fileTimeoutMs(options),
    }
  }

  // What each file's sandbox starts with; `null` to run the files unsandboxed.
  async #sandboxOptions(): Promise<FileSandboxOptions | null> {
    hostCheck ??= probe().then(hostProblem)
    const problem = await hostCheck
    if (!problem) return this.#options.sandbox
    if (this.#options.onUnsupported === 'error') throw unsupportedHostError(problem, HOW_TO_WARN)
    warnUnsandboxed(problem)
    return null
  }

  // What each project's sandboxes must see of /tmp: looked up once per project.
  #sharedPaths(config: { rootDir: string; cacheDirectory: string }): SharedPaths {
    let shared = this.#shared.get(config.rootDir)
    if (!shared) {
      const modules = this.#jestModules(config.rootDir)
      shared = sharedPaths(config, modules, [config.rootDir, process.cwd()])
      this.#shared.set(config.rootDir, shared)
    }
    return shared
  }

  #jestModules(rootDir: string): JestModules {
    let modules = this.#modules.get(rootDir)
    if (!modules) {
      modules = locateJestModules(rootDir)
      this.#modules.set(rootDir, modules)
    }
    return modules
  }
}
