import path from 'node:path'

/** The host directory that every sandbox replaces with a private tmpfs. */
export const HOST_TMP = '/tmp'

/**
 * Which entries of the host's `/tmp` must be bound back on top of the private one so that
 * the command still finds what it needs there: its working directory (a project checked
 * out under `/tmp`, with its `node_modules`), the command itself, and paths passed as
 * arguments. Each is kept as its top-level entry under `/tmp` (`/tmp/project` for
 * `/tmp/project/packages/app`), so files next to it stay reachable too; or, with
 * `exact` (for untrusted code), as exactly that path, so nothing next to it is.
 *
 * `candidates` are real paths (symlinks resolved) that exist on the host. `/tmp` itself is
 * never returned: binding it back would undo the private `/tmp`.
 */
export function selectTmpBinds(
  candidates: readonly string[],
  { exact = false }: { exact?: boolean } = {},
): string[] {
  const entries = new Set<string>()
  for (const candidate of candidates) {
    const relative = path.relative(HOST_TMP, candidate)
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) continue
    const topLevel = relative.split(path.sep)[0]
    if (exact) entries.add(path.join(HOST_TMP, relative))
    else if (topLevel) entries.add(path.join(HOST_TMP, topLevel))
  }
  // A path inside another one comes back with it.
  const sorted = [...entries].sort()
  return sorted.filter(
    (entry) => !sorted.some((other) => other !== entry && entry.startsWith(`${other}/`)),
  )
}

/** The host paths worth checking for {@link selectTmpBinds}: cwd, the command, absolute arguments. */
export function tmpBindCandidates(spec: {
  file: string
  args: readonly string[]
  cwd: string
}): string[] {
  const candidates = [spec.cwd]
  if (spec.file.includes('/')) candidates.push(path.resolve(spec.cwd, spec.file))
  for (const arg of spec.args) {
    if (path.isAbsolute(arg)) candidates.push(arg)
  }
  return candidates
}
