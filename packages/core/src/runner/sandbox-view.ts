import { isWithin } from '../plan/paths.js'
import { HOST_TMP } from '../plan/tmp-binds.js'

/** A path of the filesystem policy, with the option that put it there. */
export interface ViewEntry {
  /** The real host path (symbolic links resolved). */
  path: string
  /** The option that names it: `hide`, `ro`, `rw`, or `protectRunner` for the runner's files. */
  option: 'hide' | 'ro' | 'rw' | 'protectRunner'
}

/**
 * What one test file's sandbox sees of the host's filesystem, as the runner checks the
 * file's requests against it on the host. Every path is real (symbolic links resolved).
 */
export interface SandboxView {
  hide: ViewEntry[]
  ro: ViewEntry[]
  rw: ViewEntry[]
  readOnly: boolean
  /** Entries of the host's `/tmp` bound back into the sandbox's private `/tmp`. */
  tmpBinds: string[]
}

/** Why the sandbox cannot read or write a path: the option, and the words for a message. */
export interface Refusal {
  option: string
  reason: string
}

// Mounted afresh inside every sandbox: the host's own are never what it sees.
const PRIVATE_MOUNTS: ReadonlyArray<{ root: string; reason: string }> = [
  { root: '/proc', reason: 'the sandbox has a /proc of its own (its own PID space)' },
  { root: '/dev/shm', reason: '/dev/shm is private to each sandbox' },
]

/**
 * Whether the sandbox can read `realPath`, a real host path; `null` when it can, else
 * why not. Pure.
 */
export function readRefusal(view: SandboxView, realPath: string): Refusal | null {
  for (const mount of PRIVATE_MOUNTS) {
    if (isWithin(realPath, mount.root)) return { option: 'sandbox', reason: mount.reason }
  }
  if (isWithin(realPath, HOST_TMP) && !view.tmpBinds.some((bind) => isWithin(realPath, bind))) {
    return {
      option: 'sandbox',
      reason: `${HOST_TMP} is private to each sandbox, and this path is not bound back into it`,
    }
  }
  const hidden = innermost(view.hide, realPath)
  if (hidden) {
    const reopened = innermost(view.rw, realPath)
    if (!reopened || !isWithin(reopened.path, hidden.path)) {
      return { option: 'hide', reason: `the \`hide\` option hides ${hidden.path}` }
    }
  }
  return null
}

/**
 * Whether the sandbox can write `realPath`, a real host path; `null` when it can, else
 * why not. The innermost `ro`/`rw` entry holding the path decides, as the mounts do. Pure.
 */
export function writeRefusal(view: SandboxView, realPath: string): Refusal | null {
  const unreadable = readRefusal(view, realPath)
  if (unreadable) return unreadable
  const entry = innermost([...view.ro, ...view.rw], realPath)
  if (entry?.option === 'rw') return null
  if (entry?.option === 'protectRunner') {
    return {
      option: 'protectRunner',
      reason: `${entry.path} is the test runner's own, read-only in every test file's sandbox (the \`protectRunner\` option)`,
    }
  }
  if (entry) return { option: 'ro', reason: `the \`ro\` option makes ${entry.path} read-only` }
  if (view.readOnly) {
    return { option: 'readOnly', reason: '`readOnly` is on, and no `rw` path holds it' }
  }
  return null
}

function innermost(entries: readonly ViewEntry[], realPath: string): ViewEntry | undefined {
  let found: ViewEntry | undefined
  for (const entry of entries) {
    if (isWithin(realPath, entry.path) && (!found || entry.path.length > found.path.length)) {
      found = entry
    }
  }
  return found
}
