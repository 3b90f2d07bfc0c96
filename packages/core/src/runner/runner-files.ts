import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { isWithin } from '../plan/paths.js'
import { realPathOf } from './host-access.js'

/**
 * The names, in a project's root and its workspace's root, of what a test runner or the
 * package manager loads and runs on the host later: the runners' and Babel's config files,
 * `package.json` and lockfiles, package manager settings, `node_modules`, `.git` (its hooks)
 * and `.husky`.
 */
export const RUNNER_FILE_NAMES: RegExp =
  /^(?:(?:vitest|vite|jest)\.(?:config|workspace|projects?)(?:\.[\w-]+)*\.(?:[cm]?[jt]sx?|json)|babel\.config\.(?:[cm]?[jt]s|json)|\.babelrc(?:\.(?:[cm]?js|json))?|package\.json|package-lock\.json|npm-shrinkwrap\.json|pnpm-lock\.yaml|pnpm-workspace\.yaml|\.pnpmfile\.cjs|yarn\.lock|\.yarnrc(?:\.yml)?|\.yarn|bun\.lockb?|\.npmrc|node_modules|\.git|\.husky)$/

// What marks the root of a workspace (monorepo) above a project.
const WORKSPACE_MARKERS = ['pnpm-workspace.yaml', 'lerna.json', '.git']

/**
 * The runner files that exist in `projectRoot` and in the root of the workspace holding
 * it, if any, plus those of `extraFiles` (such as the files a config imports, or a
 * `globalSetup`) that exist inside these roots; none inside another. Reads the host.
 */
export function runnerFiles(projectRoot: string, extraFiles: readonly string[] = []): string[] {
  const roots = [projectRoot]
  const workspace = workspaceRootOf(projectRoot)
  if (workspace && workspace !== projectRoot) roots.push(workspace)
  const found = new Set<string>()
  for (const root of roots) {
    let names: string[]
    try {
      names = readdirSync(root)
    } catch {
      continue
    }
    for (const name of names) if (RUNNER_FILE_NAMES.test(name)) found.add(path.join(root, name))
  }
  // The project's own files only: what lies elsewhere (an installed package, a tool in
  // the user's home) is not the test files' to write.
  for (const file of extraFiles) {
    if (roots.some((root) => isWithin(file, root)) && existsSync(file)) found.add(file)
  }
  return outermost([...found])
}

// The paths not inside another of them: a bind inside a read-only one is not needed.
function outermost(paths: readonly string[]): string[] {
  return paths
    .filter((inner) => !paths.some((outer) => outer !== inner && isWithin(inner, outer)))
    .sort()
}

/** The nearest directory above `projectRoot` that is a workspace's root; `null` for none. */
export function workspaceRootOf(projectRoot: string): string | null {
  let directory = path.dirname(projectRoot)
  while (directory !== path.dirname(directory)) {
    if (WORKSPACE_MARKERS.some((marker) => existsSync(path.join(directory, marker)))) {
      return directory
    }
    if (hasWorkspaces(path.join(directory, 'package.json'))) return directory
    directory = path.dirname(directory)
  }
  return null
}

function hasWorkspaces(packageJson: string): boolean {
  try {
    return 'workspaces' in JSON.parse(readFileSync(packageJson, 'utf8'))
  } catch {
    return false
  }
}

/**
 * `options` with `files` added to its `ro` paths, except those the user's own `ro`, `rw`
 * or `hide` already name, or that are read-only or hidden anyway (inside a `hide` or `ro`
 * path, or, under `readOnly`, outside every `rw` path): the user's choice wins. Reads the
 * host (real paths).
 */
export function withReadOnlyRunnerFiles<Options extends ReadOnlyLists>(
  options: Options,
  files: readonly string[],
): Options & { ro: string[] } {
  const real = (entry: string) => realPathOf(path.resolve(entry))
  const named = new Set([...(options.ro ?? []), ...(options.rw ?? [])].map(real))
  const covered = [...(options.hide ?? []), ...(options.ro ?? [])].map(real)
  const writable = (options.rw ?? []).map(real)
  const added = files.filter((file) => {
    const target = real(file)
    if (named.has(target) || covered.some((entry) => isWithin(target, entry))) return false
    return !options.readOnly || writable.some((entry) => isWithin(target, entry))
  })
  return { ...options, ro: [...(options.ro ?? []), ...added] }
}

interface ReadOnlyLists {
  ro?: string[]
  rw?: string[]
  hide?: string[]
  readOnly?: boolean
}
