import { mkdirSync, readdirSync, realpathSync } from 'node:fs'
import path from 'node:path'
import type { JestModules } from './protocol.js'

/** Host paths a file's sandbox must see although they lie under the host's `/tmp`. */
export interface SharedPaths {
  /** Written to: Jest's cache directory. */
  rw: string[]
  /** Read from: the dependency trees the child loads Jest and the project's modules from. */
  ro: string[]
}

const HOST_TMP = '/tmp'

/**
 * What of the host's `/tmp`, which a sandbox replaces with a private one, a file's child
 * needs and the sandbox would not bring back by itself (it keeps the top-level `/tmp`
 * entry of its working directory, nothing else): Jest's cache directory (by default
 * `/tmp/jest_…`), to share transforms with the host, and every `node_modules` tree that
 * Jest's runner or the project's dependencies resolve into, such as a workspace's store
 * in another directory of `/tmp`. Named as options rather than passed as arguments, so
 * the test process's `process.argv` stays what Jest's own workers have.
 *
 * @param keptRoots - Directories the sandbox brings back anyway (the project's root, the
 *   working directory): paths under their top-level `/tmp` entries need no naming.
 */
export function sharedPaths(
  config: { cacheDirectory: string; rootDir: string },
  modules: JestModules,
  keptRoots: readonly string[],
): SharedPaths {
  const kept = keptRoots.flatMap((root) => topLevelTmpEntry(realOrSelf(root)) ?? [])
  const isNeeded = (real: string) =>
    isUnderTmp(real) && !kept.some((entry) => real === entry || real.startsWith(`${entry}/`))
  const rw: string[] = []
  if (isUnderTmp(path.resolve(config.cacheDirectory))) {
    // Jest makes it on its first write; the sandbox needs it to exist to share it.
    mkdirSync(config.cacheDirectory, { recursive: true })
    const cache = realOrSelf(config.cacheDirectory)
    if (isNeeded(cache)) rw.push(cache)
  }
  const loaded = [
    modules.runner,
    modules.runtime,
    modules.hasteMap,
    modules.transform,
    ...linkedDependencies(config.rootDir),
  ]
  const trees = new Set(loaded.map(realOrSelf).filter(isNeeded).map(dependencyTree))
  const ro = [...trees].filter(
    (tree) => ![...trees].some((other) => other !== tree && tree.startsWith(`${other}/`)),
  )
  return { rw, ro }
}

// Where the entries of the project's node_modules really are: a pnpm workspace links
// them into its store, which may be anywhere.
function linkedDependencies(rootDir: string): string[] {
  const modules = path.join(rootDir, 'node_modules')
  const entries = (dir: string): string[] => {
    try {
      return readdirSync(dir).map((name) => path.join(dir, name))
    } catch {
      return []
    }
  }
  return entries(modules).flatMap((entry) =>
    path.basename(entry).startsWith('@') ? entries(entry) : [entry],
  )
}

// The outermost node_modules a module lies in: everything it can resolve its own
// dependencies from (pnpm's store sits in one). Its top-level /tmp entry when there is none.
function dependencyTree(real: string): string {
  const parts = real.split(path.sep)
  const index = parts.indexOf('node_modules')
  if (index > 0) return parts.slice(0, index + 1).join(path.sep)
  return topLevelTmpEntry(real) ?? real
}

function topLevelTmpEntry(real: string): string | null {
  if (!isUnderTmp(real)) return null
  const [entry] = path.relative(HOST_TMP, real).split(path.sep)
  return entry ? path.join(HOST_TMP, entry) : null
}

function isUnderTmp(file: string): boolean {
  return file.startsWith(`${HOST_TMP}/`)
}

function realOrSelf(file: string): string {
  try {
    return realpathSync(file)
  } catch {
    return path.resolve(file)
  }
}
