import { cpSync, mkdirSync, readFileSync, realpathSync, symlinkSync } from 'node:fs'
import path from 'node:path'
import {
  handToUser,
  type ProjectRun,
  readJsonReport,
  repositoryRoot,
  runNodeInProject,
  writeProjectFiles,
} from './fixture-project.js'
import { type TestUser, testUser } from './test-user.js'

// The Vitest and Node.js the fixture projects run on: the workspace's own by default;
// CI's second leg points these at Vitest 5 and Node.js 24 installed from npm.
const vitestInstall = process.env.NSBOX_TEST_VITEST_DIR ?? repositoryRoot
const vitestPackage = realpathSync(path.join(vitestInstall, 'node_modules/vitest'))
const coveragePackage = realpathSync(path.join(vitestInstall, 'node_modules/@vitest/coverage-v8'))
const nodeBinary = process.env.NSBOX_TEST_NODE ?? process.execPath
const pluginPackage = path.join(repositoryRoot, 'packages/vitest-plugin')
const corePackage = path.join(repositoryRoot, 'packages/core')

/** The Vitest version the fixture projects run on. */
export const vitestVersion: string = JSON.parse(
  readFileSync(path.join(vitestPackage, 'package.json'), 'utf8'),
).version

/** A small Vitest project to run: its files, and the pool its config uses. */
export interface VitestProject {
  /** Paths relative to the project, and their contents. */
  files: Record<string, string>
  /** Symbolic links to make: paths relative to the project, and their targets. */
  links?: Record<string, string>
  /** `sandbox(<this>)` as the pool, or `'forks'` for Vitest's own pool. */
  pool: Record<string, unknown> | 'forks'
  /** Extra `test` config, as JSON. */
  test?: Record<string, unknown>
  /** A whole `vitest.config.js` instead of the generated one (`sandbox` is imported). */
  config?: string
  /**
   * Run Vitest where no sandbox can start: inside a sandbox of its own whose user
   * namespace allows no further user namespaces (`user.max_user_namespaces=0`).
   */
  onBlockedHost?: boolean
  /** Run Vitest believing it runs on this platform, such as darwin. */
  platform?: NodeJS.Platform
  /**
   * The directory whose `node_modules` Vitest is linked from. Default: the workspace's
   * (or `$NSBOX_TEST_VITEST_DIR`).
   */
  install?: string
}

/** What a Vitest run printed and reported (its `--reporter=json` report). */
export type VitestRun = ProjectRun<{
  success: boolean
  numFailedTests: number
  testResults: Array<{ name: string; status: string; message: string }>
}>

/**
 * Writes a Vitest project into a fresh directory under /tmp, owned by the test user,
 * with the workspace's plugin and the Vitest under test installed.
 */
export async function writeVitestProject(
  project: VitestProject,
  user: TestUser = testUser(),
): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const pool = project.pool === 'forks' ? "'forks'" : `sandbox(${JSON.stringify(project.pool)})`
  const { root, cleanup } = await writeProjectFiles(
    'nsbox-vitest-',
    {
      'package.json': '{ "type": "module" }\n',
      'vitest.config.js': [
        "import { defineConfig } from 'vitest/config'",
        "import { sandbox } from '@nsbox/vitest-plugin'",
        project.config ??
          `export default defineConfig({ test: { pool: ${pool}, ...${JSON.stringify(project.test ?? {})} } })`,
        '',
      ].join('\n'),
      ...project.files,
    },
    project.links,
  )
  // The plugin is copied, not linked, so that its `vitest` import resolves to the
  // project's Vitest, as it does when installed from npm.
  const pluginCopy = path.join(root, 'node_modules/@nsbox/vitest-plugin')
  mkdirSync(pluginCopy, { recursive: true })
  cpSync(path.join(pluginPackage, 'package.json'), path.join(pluginCopy, 'package.json'))
  cpSync(path.join(pluginPackage, 'dist'), path.join(pluginCopy, 'dist'), { recursive: true })
  symlinkSync(corePackage, path.join(root, 'node_modules/@nsbox/core'))
  const install = project.install
  symlinkSync(
    install ? realpathSync(path.join(install, 'node_modules/vitest')) : vitestPackage,
    path.join(root, 'node_modules/vitest'),
  )
  mkdirSync(path.join(root, 'node_modules/@vitest'))
  symlinkSync(
    install
      ? realpathSync(path.join(install, 'node_modules/@vitest/coverage-v8'))
      : coveragePackage,
    path.join(root, 'node_modules/@vitest/coverage-v8'),
  )
  await handToUser(root, user)
  return { root, cleanup }
}

/** Runs Vitest as the test user in a project written by {@link writeVitestProject}. */
export function startVitest(root: string, args: string[], user: TestUser = testUser()) {
  return runNodeInProject(
    root,
    nodeBinary,
    [path.join(projectVitest(root), 'vitest.mjs'), ...args],
    {
      user,
    },
  )
}

// The project's own Vitest, wherever it is linked from.
function projectVitest(root: string): string {
  return realpathSync(path.join(root, 'node_modules/vitest'))
}

/**
 * Writes a Vitest project (see {@link writeVitestProject}), runs the real `vitest run`
 * there as the unprivileged test user, and returns its output and JSON report.
 */
export async function runVitestProject(
  project: VitestProject,
  args: string[] = [],
  user: TestUser = testUser(),
): Promise<VitestRun & { cleanup: () => Promise<void> }> {
  const { root, cleanup } = await writeVitestProject(project, user)
  const reporters = ['--reporter=default', '--reporter=json', '--outputFile.json=report.json']
  const child = await runNodeInProject(
    root,
    nodeBinary,
    [path.join(projectVitest(root), 'vitest.mjs'), 'run', ...reporters, ...args],
    { user, onBlockedHost: project.onBlockedHost ?? false, platform: project.platform },
  )
  const report = readJsonReport<VitestRun['report']>(root, 'report.json', {
    success: false,
    numFailedTests: 0,
    testResults: [],
  })
  return {
    exitCode: child.exitCode ?? -1,
    stdout: child.stdout,
    stderr: child.stderr,
    report,
    root,
    cleanup,
  }
}

export { statusByFile } from './fixture-project.js'
