import path from 'node:path'

/** The host directory that every sandbox replaces with a private tmpfs. */
export const HOST_TMP = '/tmp'

/**
 * Which entries of the host's `/tmp` must be bound back on top of the private one so that
 * the command still finds what it needs there: its working directory (a project checked
 * out under `/tmp`, with its `node_modules`), the command itself, and paths passed as
 * arguments. Each is kept as its top-level entry under `/tmp` (`/tmp/project` for
 * `/tmp/project/packages/app`), so files next to it stay reachable too.
 *
 * `candidates` are real paths (symlinks resolved) that exist on the host. `/tmp` itself is
 * never returned: binding it back would undo the private `/tmp`.
 */
export function selectTmpBinds(candidates: readonly string[]): string[] {
  const entries = new Set<string>()
  for (const candidate of candidates) {
    const relative = path.relative(HOST_TMP, candidate)
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) continue
    const topLevel = relative.split(path.sep)[0]
    if (topLevel) entries.add(path.join(HOST_TMP, topLevel))
  }
  return [...entries].sort()
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
