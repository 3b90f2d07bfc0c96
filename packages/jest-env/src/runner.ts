import { probe } from '@nsbox/core'
import {
  type FileSandboxOptions,
  type HostProblem,
  hostProblem,
  type ResolvedTestSandboxOptions,
  resolveTestSandboxOptions,
  type TestSandboxOptions,
  unsupportedHostError,
  warnUnsandboxed,
} from '@nsbox/core/runner'
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
import { RunnerEvents } from './events.js'
import { type FileRun, runFile } from './file-run.js'
import { locateJestModules } from './jest-modules.js'
import { type JestModules, serializeContext } from './protocol.js'

/**
 * Options of the Jest runner: the limits and isolation every test file's sandbox starts
 * with, and what to do on a host that cannot start sandboxes. The same options, with the
 * same defaults, as the Vitest plugin's.
 */
export interface NsboxRunnerOptions extends TestSandboxOptions {}

const OWNER = 'the Jest runner @nsbox/jest-env'
const HOW_TO_WARN =
  "give the runner the option onUnsupported: 'warn' (runner: ['@nsbox/jest-env', { onUnsupported: 'warn' }])"

let hostCheck: Promise<HostProblem | null> | undefined

/**
 * A Jest runner (`runner: '@nsbox/jest-env'`) that runs every test file in a fresh nsbox
 * sandbox: its own PID space, loopback, `/tmp` and hostname, and a memory cap. Inside,
 * the file runs with Jest's own runner, of the installed version; its test-case events
 * stream back, so reporters show progress as usual. A file killed by a limit fails as
 * that file ("Test suite failed to run" and a message naming the limit and the peak),
 * once, and the run goes on.
 */
export class NsboxRunner {
  /** Jest subscribes to the runner's events rather than passing callbacks. */
  readonly supportsEventEmitters = true
  /** Files run in parallel, up to `--maxWorkers` at a time, unless Jest runs in band. */
  readonly isSerial = false
  readonly #globalConfig: Config.GlobalConfig
  readonly #context: TestRunnerContext
  readonly #options: ResolvedTestSandboxOptions
  readonly #events = new RunnerEvents()
  readonly #modules = new Map<string, JestModules>()

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
    this.#globalConfig = globalConfig
    this.#context = context
    this.#options = resolveTestSandboxOptions(runnerOptions, OWNER)
  }

  /** Subscribes to one of the events Jest's reporters are fed from. */
  on<Name extends keyof TestEvents>(
    name: Name,
    listener: (data: TestEvents[Name]) => void | Promise<void>,
  ): UnsubscribeFn {
    return this.#events.on(name, listener)
  }

  /** Runs the test files, each in its own sandbox, and reports them through the events. */
  async runTests(tests: Test[], watcher: TestWatcher, _options: TestRunnerOptions): Promise<void> {
    const sandbox = await this.#sandboxOptions()
    // Jest asks for a serial run also when it guesses that starting workers would cost more
    // than the tests; here every file gets its own process anyway, so only --maxWorkers
    // (which --runInBand sets to 1) limits how many run at once.
    const concurrency = Math.max(1, this.#globalConfig.maxWorkers)
    const limit = pLimit(concurrency)
    const freeWorkerIds = Array.from({ length: concurrency }, (_, index) => index + 1)
    const running = new Set<FileRun>()
    const context = serializeContext(this.#context)
    const stopWatching = watcher.on('change', (state) => {
      if (state.interrupted) for (const run of running) run.abort()
    })
    const runOne = async (test: Test): Promise<void> => {
      if (watcher.isInterrupted()) return
      const workerId = freeWorkerIds.shift() ?? 1
      try {
        await this.#events.emit('test-file-start', [test])
        // Test-case events reach Jest in order, and before the file's own result.
        let reported = Promise.resolve()
        const run = runFile({
          test,
          globalConfig: this.#globalConfig,
          context,
          modules: this.#jestModules(test.context.config.rootDir),
          workerId,
          sandbox,
          onEvent: (name, args) => {
            reported = reported.then(() =>
              this.#events.emit(name as keyof TestEvents, args as TestEvents[keyof TestEvents]),
            )
          },
        })
        running.add(run)
        const outcome = await run.outcome
        running.delete(run)
        await reported
        if (outcome.ok) {
          await this.#events.emit('test-file-success', [
            test,
            outcome.result as TestEvents['test-file-success'][1],
          ])
        } else {
          await this.#events.emit('test-file-failure', [test, outcome.error])
        }
      } finally {
        freeWorkerIds.push(workerId)
      }
    }
    try {
      await Promise.all(tests.map((test) => limit(() => runOne(test))))
    } finally {
      stopWatching()
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

  #jestModules(rootDir: string): JestModules {
    let modules = this.#modules.get(rootDir)
    if (!modules) {
      modules = locateJestModules(rootDir)
      this.#modules.set(rootDir, modules)
    }
    return modules
  }
}
