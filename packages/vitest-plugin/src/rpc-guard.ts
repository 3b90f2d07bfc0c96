import path from 'node:path'
import {
  type ConsoleBudget,
  type HostAccessError,
  type HostAccessGuard,
  messageLimitError,
} from '@nsbox/core/runner'

/** A birpc message between a Vitest worker and the main process. */
interface RpcMessage {
  t: 'q' | 's'
  /** Request: the method. */
  m?: string
  /** Request: the arguments. */
  a?: unknown[]
  /** The call's id; a request without one is an event, which expects no reply. */
  i?: string
  /** Response: the result. */
  r?: unknown
  /** Response: the error. */
  e?: unknown
}

/** What to do with a message from the sandboxed worker. */
export type WorkerVerdict =
  /** Hand it to Vitest (possibly changed). */
  | { forward: unknown }
  /** Send this back to the worker instead (a refused call's error), or nothing for an event. */
  | { reply: unknown | null }
  /** The file broke a cap, or forged what the main process would read: fail it. */
  | { fail: Error }

type Paths = (args: unknown[], root: string) => string[]

/**
 * The Vitest worker RPC methods the main process serves to a sandboxed worker, each with
 * what is checked on the host before it is served. See docs/vitest.md for why each is
 * there; any method not listed is refused.
 */
const SERVED: Record<string, 'forward' | 'checked' | 'redacted' | 'console' | 'coverage'> = {
  // Read host files (through Vite's transforms): the ids asked for, and the files they
  // resolve to, must be readable in the sandbox.
  fetch: 'checked',
  resolve: 'checked',
  transform: 'checked',
  fetchWarmModules: 'checked',
  prewarmModuleGraph: 'checked',
  ensureModuleGraphEntry: 'checked',
  onTestModuleDependencies: 'checked',
  // Read and write files in the project (Vitest 5 benchmarks).
  readBenchmarkResult: 'checked',
  writeBenchmarkResult: 'checked',
  // Copy a test's attachments (any path) into the project.
  onTaskArtifactRecord: 'checked',
  onTaskAnnotate: 'checked',
  // Errors: the main process reads the files their stacks name, for code frames.
  onTaskUpdate: 'redacted',
  onUnhandledError: 'redacted',
  onAsyncLeaks: 'redacted',
  // Kept for the file's report: counted against maxConsoleSize.
  onUserConsoleLog: 'console',
  // Coverage: the main process reads every file it names, for the report; coverage of a
  // file the sandbox cannot read is forged, and fails the file.
  onAfterSuiteRun: 'coverage',
  // Reports and bookkeeping of the run, no host files.
  onQueued: 'forward',
  onCollected: 'forward',
  onCancel: 'forward',
  onTestBenchmark: 'forward',
  getCountOfFailedTests: 'forward',
  snapshotSaved: 'forward',
  resolveSnapshotPath: 'forward',
}

// Errors nest (`cause`, `errors`); deeper than this is left as it is.
const MAX_REDACT_DEPTH = 16

// The methods whose results name host files, checked again once Vitest has answered.
const CHECKED_RESULTS = new Set(['fetch', 'resolve', 'fetchWarmModules'])

// What each checked method asks the host to read, and to write (relative paths are the
// project root's).
const READS: Record<string, Paths> = {
  fetch: (args, root) => moduleIds(args[0], args[1], root),
  resolve: (args, root) => moduleIds(args[0], args[1], root),
  transform: (args) => moduleIds(args[0]),
  fetchWarmModules: (args) => list(args[1]).flatMap((id) => moduleIds(id)),
  prewarmModuleGraph: (args) => list(args[1]).flatMap((id) => moduleIds(id)),
  ensureModuleGraphEntry: (args) => [...moduleIds(args[0]), ...moduleIds(args[1])],
  onTestModuleDependencies: (args) => [
    ...moduleIds(args[0]),
    ...list(args[1]).flatMap((id) => moduleIds(id)),
  ],
  readBenchmarkResult: (args) => strings(args[0]),
  onTaskArtifactRecord: (args) => attachmentPaths(args[1]),
  onTaskAnnotate: (args) => attachmentPaths({ annotation: args[1] }),
}
const WRITES: Record<string, Paths> = {
  writeBenchmarkResult: (args) => strings(args[0]),
}

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

/**
 * The host paths a module id may name, for the check before Vitest resolves it: an
 * absolute path (also as under the project's root, as Vite reads `/src/a.ts`) or `file:`
 * URL, or a relative one from its importer; with Vite's `/@fs/` prefix and any query
 * taken off. Bare specifiers and virtual modules name none: their files are checked once
 * resolved.
 */
export function moduleIds(value: unknown, importer?: unknown, root?: string): string[] {
  if (typeof value !== 'string' || value === '' || value.startsWith('\0')) return []
  let id = value.replace(/[?#].*$/s, '')
  if (id.startsWith('/@fs/')) return [id.slice('/@fs'.length)]
  if (id.startsWith('/@id/') || id.startsWith('virtual:')) return []
  if (id.startsWith('file:')) return [id]
  if (path.isAbsolute(id)) return root ? [id, path.join(root, id)] : [id]
  const [from] = moduleIds(importer)
  if (id.startsWith('.') && from) {
    id = path.resolve(path.dirname(from.startsWith('file:') ? new URL(from).pathname : from), id)
    return [id]
  }
  return []
}

// The files coverage names: V8's (`{ result: [{ url }] }`) or Istanbul's (keyed by path).
function coveredFiles(meta: unknown): string[] {
  const coverage = (meta as { coverage?: unknown } | undefined)?.coverage
  if (typeof coverage !== 'object' || coverage === null) return []
  const v8Result = (coverage as { result?: unknown }).result
  if (Array.isArray(v8Result)) {
    return v8Result.flatMap((entry) => moduleIds((entry as { url?: unknown } | null)?.url))
  }
  return Object.keys(coverage).flatMap((file) => moduleIds(file))
}

// The host files a fetch or resolve result names: `file`, `id`, an externalized path.
function resultPaths(result: unknown): string[] {
  if (typeof result !== 'object' || result === null) return []
  const { file, id, externalize } = result as Record<string, unknown>
  return [...moduleIds(file), ...moduleIds(id), ...moduleIds(externalize)]
}

function attachmentPaths(artifact: unknown): string[] {
  const { attachments, annotation } = (artifact ?? {}) as {
    attachments?: unknown
    annotation?: { attachment?: unknown }
  }
  return [...list(attachments), annotation?.attachment]
    .map((attachment) => (attachment as { path?: unknown } | undefined)?.path)
    .filter((file): file is string => typeof file === 'string' && !/^https?:\/\//.test(file))
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

function asRpc(message: unknown): RpcMessage | null {
  if (typeof message !== 'object' || message === null) return null
  const { t } = message as { t?: unknown }
  return t === 'q' || t === 's' ? (message as RpcMessage) : null
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}

function strings(value: unknown): string[] {
  return typeof value === 'string' ? [value] : []
}
