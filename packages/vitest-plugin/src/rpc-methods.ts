import path from 'node:path'

/** A birpc message between a Vitest worker and the main process. */
export interface RpcMessage {
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

type Paths = (args: unknown[], root: string) => string[]

/**
 * The Vitest worker RPC methods the main process serves to a sandboxed worker, each with
 * what is checked on the host before it is served. See docs/vitest.md for why each is
 * there; any method not listed is refused.
 */
export const SERVED: Record<string, 'forward' | 'checked' | 'redacted' | 'console' | 'coverage'> = {
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
export const MAX_REDACT_DEPTH = 16

// The methods whose results name host files, checked again once Vitest has answered.
export const CHECKED_RESULTS = new Set(['fetch', 'resolve', 'fetchWarmModules'])

// What each checked method asks the host to read, and to write (relative paths are the
// project root's).
export const READS: Record<string, Paths> = {
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
export const WRITES: Record<string, Paths> = {
  writeBenchmarkResult: (args) => strings(args[0]),
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
export function coveredFiles(meta: unknown): string[] {
  const coverage = (meta as { coverage?: unknown } | undefined)?.coverage
  if (typeof coverage !== 'object' || coverage === null) return []
  const v8Result = (coverage as { result?: unknown }).result
  if (Array.isArray(v8Result)) {
    return v8Result.flatMap((entry) => moduleIds((entry as { url?: unknown } | null)?.url))
  }
  return Object.keys(coverage).flatMap((file) => moduleIds(file))
}

// The host files a fetch or resolve result names: `file`, `id`, an externalized path.
export function resultPaths(result: unknown): string[] {
  if (typeof result !== 'object' || result === null) return []
  const { file, id, externalize } = result as Record<string, unknown>
  return [...moduleIds(file), ...moduleIds(id), ...moduleIds(externalize)]
}

export function attachmentPaths(artifact: unknown): string[] {
  const { attachments, annotation } = (artifact ?? {}) as {
    attachments?: unknown
    annotation?: { attachment?: unknown }
  }
  return [...list(attachments), annotation?.attachment]
    .map((attachment) => (attachment as { path?: unknown } | undefined)?.path)
    .filter((file): file is string => typeof file === 'string' && !/^https?:\/\//.test(file))
}

export function asRpc(message: unknown): RpcMessage | null {
  if (typeof message !== 'object' || message === null) return null
  const { t } = message as { t?: unknown }
  return t === 'q' || t === 's' ? (message as RpcMessage) : null
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}

export function strings(value: unknown): string[] {
  return typeof value === 'string' ? [value] : []
}
