import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { type FileSandboxOptions, runnerFiles, withReadOnlyRunnerFiles } from '@nsbox/core/runner'
import type { Config } from 'jest-runner'

const cache = new Map<string, string[]>()

/**
 * What Jest's main process loads from a project, read-only for its test files: the
 * runner files of the project's root and of Jest's root (config files, `package.json`,
 * lockfiles, `node_modules`, `.git`…, see `runnerFiles`), and the modules the config
 * names that run on the host: `globalSetup`, `globalTeardown`, the runner, transforms,
 * resolvers, reporters, the sequencer, the results processor and watch plugins. Found once
 * per project.
 */
export function jestRunnerFiles(
  config: Config.ProjectConfig,
  globalConfig: Config.GlobalConfig,
): string[] {
  let files = cache.get(config.id)
  if (!files) {
    const extra = [
      config.globalSetup,
      config.globalTeardown,
      config.runner,
      config.resolver,
      config.snapshotResolver,
      config.dependencyExtractor,
      ...config.transform.map(([, transformer]) => transformer),
      globalConfig.testSequencer,
      globalConfig.testResultsProcessor,
      ...(globalConfig.reporters ?? []).map((reporter) =>
        Array.isArray(reporter) ? reporter[0] : reporter,
      ),
      ...(globalConfig.watchPlugins ?? []).map((plugin) => plugin.path),
    ].filter((file): file is string => typeof file === 'string' && path.isAbsolute(file))
    const roots = new Set([config.rootDir, globalConfig.rootDir])
    files = [...new Set([...roots].flatMap((root) => runnerFiles(root, extra)))].sort()
    cache.set(config.id, files)
  }
  return files
}

/**
 * A file's sandbox options with the runner's files read-only, keeping Jest's cache
 * directory writable for the file's transforms when it lies inside one of them (such as
 * `node_modules/.cache/jest`).
 */
export function withRunnerFilesReadOnly(
  sandbox: FileSandboxOptions,
  files: readonly string[],
  cacheDirectory: string,
): FileSandboxOptions {
  const isInside = files.some((file) => !path.relative(file, cacheDirectory).startsWith('..'))
  if (!isInside) return withReadOnlyRunnerFiles(sandbox, files)
  mkdirSync(cacheDirectory, { recursive: true })
  return withReadOnlyRunnerFiles({ ...sandbox, rw: [...(sandbox.rw ?? []), cacheDirectory] }, files)
}
