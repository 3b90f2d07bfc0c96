import path from 'node:path'
import { runnerFiles } from '@nsbox/core/runner'
import type { TestProject } from 'vitest/node'

const cache = new WeakMap<TestProject, string[]>()

/**
 * What Vitest's main process loads from a project, read-only for its test files: the
 * runner files of the project's root and of Vitest's root (config files, `package.json`,
 * lockfiles, `node_modules`, `.git`…, see `runnerFiles`), every file the config imports,
 * the `globalSetup` files and the custom reporters given by path. Found once per project.
 */
export function vitestRunnerFiles(project: TestProject): string[] {
  let files = cache.get(project)
  if (!files) {
    const roots = new Set([project.config.root, project.vitest.config.root])
    const extra = [
      ...configFiles(project.vite.config),
      ...configFiles(project.vitest.vite.config),
      ...toList(project.config.globalSetup),
      ...(project.vitest.config.reporters as unknown[]).flatMap(reporterPath),
    ].map((file) => path.resolve(project.config.root, file))
    files = [...new Set([...roots].flatMap((root) => runnerFiles(root, extra)))].sort()
    cache.set(project, files)
  }
  return files
}

function configFiles(config: {
  configFile?: string | false
  configFileDependencies?: string[]
}): string[] {
  return [
    ...(config.configFile ? [config.configFile] : []),
    ...(config.configFileDependencies ?? []),
  ]
}

// A reporter given by name or path, alone or as `[name, options]`.
function reporterPath(reporter: unknown): string[] {
  const name = Array.isArray(reporter) ? reporter[0] : reporter
  return typeof name === 'string' ? [name] : []
}

function toList(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value]
}
