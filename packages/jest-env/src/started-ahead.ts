import type { Test } from 'jest-runner'
import type { TestProcess } from './test-process.js'

/** A test file's process, started and preparing, with how its file is to run. */
export interface StartedFile {
  testProcess: TestProcess
  /** The file's wall-clock limit, which starts when the file does; `null` for none. */
  timeoutMs: number | null
}

/**
 * The processes of upcoming test files, each started ahead of its file, in a sandbox
 * planned for that very file (its docblock's limits and shape included), and preparing
 * while the files before it run. Each runs its one file and ends: none is reused.
 */
export class StartedAhead {
  readonly #start: (test: Test, workerId: number) => Promise<StartedFile>
  readonly #started = new Map<Test, Promise<StartedFile>>()

  /** @param start - Starts a file's process and has it prepare. */
  constructor(start: (test: Test, workerId: number) => Promise<StartedFile>) {
    this.#start = start
  }

  /** Starts `test`'s process now, unless it has been; `workerId` is its likely slot. */
  startAhead(test: Test, workerId: number): void {
    if (this.#started.has(test)) return
    const started = this.#start(test, workerId)
    // What failed is reported when the file's turn comes.
    started.catch(() => undefined)
    this.#started.set(test, started)
  }

  /** `test`'s process: the one started ahead, or one started now. */
  take(test: Test, workerId: number): Promise<StartedFile> {
    const started = this.#started.get(test) ?? this.#start(test, workerId)
    this.#started.delete(test)
    return started
  }

  /** Ends the processes that no file took (an interrupted run, `--bail`). */
  async close(): Promise<void> {
    const left = [...this.#started.values()]
    this.#started.clear()
    await Promise.all(
      left.map((started) =>
        started.then(
          ({ testProcess }) => testProcess.close(),
          () => undefined,
        ),
      ),
    )
  }

  /** Kills the processes that no file took yet (Jest's watch mode interrupted the run). */
  kill(): void {
    for (const started of this.#started.values()) {
      started.then(
        ({ testProcess }) => testProcess.kill(),
        () => undefined,
      )
    }
  }
}
