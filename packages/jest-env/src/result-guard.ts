import {
  ConsoleBudget,
  type HostAccessGuard,
  type MessageLimitError,
  messageLimitError,
} from '@nsbox/core/runner'
import type { ChildMessage } from './protocol.js'

/** What becomes of a message from a file's child: kept (possibly changed), or the file fails. */
export type Verdict = { message: ChildMessage } | { error: Error }

/**
 * Checks on the host what a sandboxed file's child reports before Jest acts on it. Jest's
 * main process reads the files that a result's coverage names (for the report, with their
 * source) and that a failure's stack names (for its code frame), and keeps the file's
 * console output: coverage of a file the sandbox cannot read fails the file, stack frames
 * naming one are redacted, and console output counts against `maxConsoleSize`.
 */
export class ResultGuard {
  readonly #access: HostAccessGuard
  readonly #console: ConsoleBudget
  readonly #relativePath: string
  readonly #maxConsoleBytes: number

  /**
   * @param access - The file's sandbox, as the host checks paths against it.
   * @param maxConsoleBytes - The cap on the file's console output.
   * @param relativePath - The file, for messages.
   */
  constructor(access: HostAccessGuard, maxConsoleBytes: number, relativePath: string) {
    this.#access = access
    this.#console = new ConsoleBudget(maxConsoleBytes)
    this.#maxConsoleBytes = maxConsoleBytes
    this.#relativePath = relativePath
  }

  /** Decides what becomes of a message from the child. */
  check(message: ChildMessage): Verdict {
    if (message.type === 'failure') {
      const { error } = message
      return {
        message: { ...message, error: { ...error, stack: this.#access.redact(error.stack) } },
      }
    }
    if (message.type !== 'result') return { message }
    const result = (message.result ?? {}) as JestResult
    const refused = this.#coverageRefusal(result) ?? this.#consoleOverflow(result)
    if (refused) return { error: refused }
    const execError = result.testExecError
    if (!execError || typeof execError.stack !== 'string') return { message }
    const redacted = { ...execError, stack: this.#access.redact(execError.stack) }
    return { message: { ...message, result: { ...result, testExecError: redacted } } }
  }

  // Istanbul's map (babel) is keyed by path; V8's entries name a `file:` URL.
  #coverageRefusal(result: JestResult): Error | null {
    const files = [
      ...Object.keys(result.coverage ?? {}),
      ...(result.v8Coverage ?? []).map((entry) => entry?.result?.url),
    ].filter((file): file is string => typeof file === 'string' && file !== '')
    for (const file of files) {
      const refusal = this.#access.checkRead(file)
      if (refusal) return refusal
    }
    return null
  }

  #consoleOverflow(result: JestResult): MessageLimitError | null {
    for (const entry of result.console ?? []) {
      if (!this.#console.spend(String(entry?.message ?? ''))) {
        const limit = this.#maxConsoleBytes
        return messageLimitError(this.#relativePath, 'maxConsoleSize', limit, limit)
      }
    }
    return null
  }
}

// The parts of Jest's TestResult that the host acts on.
interface JestResult {
  coverage?: Record<string, unknown>
  v8Coverage?: Array<{ result?: { url?: unknown } } | undefined>
  console?: Array<{ message?: unknown } | undefined>
  testExecError?: { stack?: unknown }
}
