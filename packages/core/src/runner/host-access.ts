import { realpathSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { HostAccessError } from '../errors.js'
import { selectTmpBinds, tmpBindCandidates } from '../plan/tmp-binds.js'
import type { FileSandboxOptions } from './options.js'
import {
  type Refusal,
  readRefusal,
  type SandboxView,
  type ViewEntry,
  writeRefusal,
} from './sandbox-view.js'

/** How a test file's sandbox is started: what decides which host `/tmp` paths it keeps. */
export interface LaunchShape {
  cwd: string
  file: string
  args: readonly string[]
}

/** What the runner's filesystem checks need of a test file's sandbox options. */
export type ViewOptions = Pick<FileSandboxOptions, 'hide' | 'ro' | 'rw' | 'readOnly'> & {
  /** The runner's own files, read-only for the test file (see {@link runnerFiles}). */
  runnerFiles?: string[]
}

const REDACTED = '[path hidden by nsbox]'
// A path in a stack frame: followed by its line (and column).
const FRAME_PATH = /(?:file:\/\/)?(\/[^\s'"`()<>:,;]+)(?=:\d)/g
const CACHE_LIMIT = 1000

/**
 * Checks, on the host, what a sandboxed test file asks its runner to read or write against
 * what the sandbox itself may: the runner serves a path only when the file could have read
 * (or written) it itself. Paths are resolved the way the host would open them (symbolic
 * links followed, relative paths from the project's root).
 */
export class HostAccessGuard {
  readonly #view: SandboxView
  readonly #file: string
  readonly #cwd: string
  readonly #readCache = new Map<string, Refusal | null>()

  /**
   * @param options - The file's sandbox options (after its docblock).
   * @param launch - How its sandbox is started.
   * @param file - The test file, relative to the project, for messages.
   */
  constructor(options: ViewOptions, launch: LaunchShape, file: string) {
    this.#view = sandboxView(options, launch)
    this.#file = file
    this.#cwd = launch.cwd
  }

  /** The error to refuse a read of `hostPath` with (a path or `file:` URL); `null` to serve it. */
  checkRead(hostPath: string): HostAccessError | null {
    const real = this.#realPath(hostPath)
    let refusal = this.#readCache.get(real)
    if (refusal === undefined) {
      refusal = readRefusal(this.#view, real)
      if (this.#readCache.size >= CACHE_LIMIT) this.#readCache.clear()
      this.#readCache.set(real, refusal)
    }
    return refusal && this.#error('read', hostPath, real, refusal)
  }

  /** The error to refuse a write of `hostPath` with; `null` to carry it out. */
  checkWrite(hostPath: string): HostAccessError | null {
    const real = this.#realPath(hostPath)
    const refusal = writeRefusal(this.#view, real)
    return refusal && this.#error('write', hostPath, real, refusal)
  }

  /**
   * `text` (an error's stack) with every path of a stack frame that the sandbox cannot
   * read replaced: the runner reads the files a stack names, to print code frames.
   */
  redact(text: string): string {
    return text.replace(FRAME_PATH, (match, found: string) =>
      this.checkRead(found) ? REDACTED : match,
    )
  }

  /** `file` itself when the sandbox can read it, else a placeholder. */
  redactPath(file: string): string {
    return this.checkRead(file) ? REDACTED : file
  }

  #realPath(hostPath: string): string {
    const plain = hostPath.startsWith('file:') ? safeFileUrlToPath(hostPath) : hostPath
    return realPathOf(path.resolve(this.#cwd, plain))
  }

  #error(access: 'read' | 'write', asked: string, real: string, refusal: Refusal): HostAccessError {
    const shown = asked === real ? asked : `${asked} (${real})`
    const what =
      access === 'read' ? 'which its sandbox cannot read' : 'which is read-only in its sandbox'
    return new HostAccessError(
      real,
      refusal.option,
      `nsbox: ${this.#file} asked the test runner to ${access} ${shown}, ${what}: ${refusal.reason}. The runner serves a test file only what its sandbox allows it.`,
    )
  }
}

/**
 * The sandbox's view of the host's filesystem, from its options: every path real, as the
 * mounts will be. Reads the host (real paths).
 */
export function sandboxView(options: ViewOptions, launch: LaunchShape): SandboxView {
  const entries = (paths: readonly string[] | undefined, option: ViewEntry['option']) =>
    (paths ?? []).map((entry) => ({ path: realPathOf(path.resolve(entry)), option }))
  const candidates = tmpBindCandidates(launch).map(realPathOf)
  return {
    hide: entries(options.hide, 'hide'),
    // The runner's files come first: also among `ro`, they are named as the runner's.
    ro: [...entries(options.runnerFiles, 'protectRunner'), ...entries(options.ro, 'ro')],
    rw: entries(options.rw, 'rw'),
    readOnly: options.readOnly === true,
    tmpBinds: selectTmpBinds(candidates),
  }
}

/**
 * `absolute` with symbolic links resolved, as far as it exists: a missing tail is kept as
 * it is, under its parent's real path.
 */
export function realPathOf(absolute: string): string {
  try {
    return realpathSync.native(absolute)
  } catch {
    const parent = path.dirname(absolute)
    return parent === absolute ? absolute : path.join(realPathOf(parent), path.basename(absolute))
  }
}

function safeFileUrlToPath(url: string): string {
  try {
    return fileURLToPath(url)
  } catch {
    return url
  }
}
