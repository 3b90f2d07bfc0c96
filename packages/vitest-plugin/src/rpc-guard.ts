import path from 'node:path'
import {
  type ConsoleBudget,
  type HostAccessError,
  type HostAccessGuard,
  messageLimitError,
} from '@nsbox/core/runner'
import {
  asRpc,
  CHECKED_RESULTS,
  coveredFiles,
  MAX_REDACT_DEPTH,
  moduleIds,
  READS,
  type RpcMessage,
  resultPaths,
  SERVED,
  WRITES,
} from './rpc-methods.js'

/** What to do with a message from the sandboxed worker. */
export type WorkerVerdict =
  /** Hand it to Vitest (possibly changed). */
  | { forward: unknown }
  /** Send this back to the worker instead (a refused call's error), or nothing for an event. */
  | { reply: unknown | null }
  /** The file broke a cap, or forged what the main process would read: fail it. */
  | { fail: Error }

/**
 * Stands between a sandboxed Vitest worker and the main process: every RPC call the
 * worker makes is served only when it asks for nothing its sandbox could not read or
 * write itself; error stacks that name hidden files are redacted, coverage of them fails
 * the file, and console output is counted against its cap.
 */
export class RpcGuard {
  readonly #access: HostAccessGuard
  readonly #console: ConsoleBudget
  readonly #root: string
  readonly #relativePath: string
  // Calls whose answers name host files, by id.
  readonly #pending = new Map<string, string>()
  readonly #check: (candidate: string) => HostAccessError | null

  /**
   * @param access - The file's sandbox, as the host checks paths against it.
   * @param consoleBudget - The file's console output cap.
   * @param root - The project's root, against which Vite resolves `/src/…` ids.
   * @param relativePath - The test file, for messages.
   */
  constructor(
    access: HostAccessGuard,
    consoleBudget: ConsoleBudget,
    root: string,
    relativePath: string,
  ) {
    this.#access = access
    this.#console = consoleBudget
    this.#root = root
    this.#relativePath = relativePath
    this.#check = (candidate) => access.checkRead(candidate)
  }

  /** Decides what becomes of a message from the worker. */
  fromWorker(message: unknown): WorkerVerdict {
    const call = asRpc(message)
    if (call?.t !== 'q' || typeof call.m !== 'string') return { forward: message }
    const method = call.m
    const args = Array.isArray(call.a) ? call.a : []
    const kind = SERVED[method]
    if (!kind) return this.#refuse(call, unservedError(method))
    if (kind === 'console') {
      const content = (args[0] as { content?: unknown } | undefined)?.content
      if (this.#console.spend(typeof content === 'string' ? content : '')) {
        return { forward: message }
      }
      const limit = this.#console.limitBytes
      return { fail: messageLimitError(this.#relativePath, 'maxConsoleSize', limit, limit) }
    }
    if (kind === 'redacted') return { forward: this.#redact(call) }
    if (kind === 'coverage') {
      const refusal = firstOf(coveredFiles(args[0]), this.#check)
      return refusal ? { fail: refusal } : { forward: message }
    }
    if (kind === 'checked') {
      const refusal =
        firstOf(READS[method]?.(args, this.#root) ?? [], this.#check) ??
        firstOf(WRITES[method]?.(args, this.#root) ?? [], (file) => this.#access.checkWrite(file))
      if (refusal) return this.#refuse(call, refusal)
      if (call.i && CHECKED_RESULTS.has(method)) this.#pending.set(call.i, method)
    }
    return { forward: message }
  }

  /** A message from the main process to the worker, with refused results turned into errors. */
  toWorker(message: unknown): unknown {
    const answer = asRpc(message)
    if (answer?.t !== 's' || !answer.i) return message
    const method = this.#pending.get(answer.i)
    if (!method) return message
    this.#pending.delete(answer.i)
    if (answer.e !== undefined || answer.r === null || answer.r === undefined) return message
    if (method === 'fetchWarmModules') return { ...answer, r: this.#warmModules(answer.r) }
    const refusal = firstOf(resultPaths(answer.r), this.#check)
    return refusal ? { t: 's', i: answer.i, e: refusal } : message
  }

  #refuse(call: RpcMessage, error: Error): WorkerVerdict {
    return { reply: call.i ? { t: 's', i: call.i, e: error } : null }
  }

  // Vitest 5: the modules a worker may load without asking, one by one.
  #warmModules(result: unknown): unknown {
    if (typeof result !== 'object' || result === null) return result
    const kept = Object.entries(result).filter(
      ([url, entry]) => !firstOf([...moduleIds(url), ...resultPaths(entry)], this.#check),
    )
    return Object.fromEntries(kept)
  }

  // Replaces, in place (errors stay errors), the stack frames in strings and the `file`
  // fields of parsed stacks that name what the sandbox cannot read.
  #redact(value: unknown, seen = new WeakSet<object>(), depth = 0): unknown {
    if (typeof value === 'string') return this.#access.redact(value)
    if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value
    if (seen.has(value) || depth > MAX_REDACT_DEPTH) return value
    seen.add(value)
    const fields = value as Record<string, unknown>
    for (const key of Object.getOwnPropertyNames(value)) {
      const item = fields[key]
      fields[key] =
        key === 'file' && typeof item === 'string' && path.isAbsolute(item)
          ? this.#access.redactPath(item)
          : this.#redact(item, seen, depth + 1)
    }
    return value
  }
}

function unservedError(method: string): Error {
  return new Error(
    `nsbox: the Vitest RPC method \`${method}\` is not served to sandboxed test files: nsbox does not know what it reads on the host. Update @nsbox/vitest-plugin, or report it.`,
  )
}

function firstOf(
  candidates: readonly string[],
  check: (candidate: string) => HostAccessError | null,
): HostAccessError | null {
  for (const candidate of candidates) {
    const refusal = check(candidate)
    if (refusal) return refusal
  }
  return null
}
