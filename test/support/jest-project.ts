import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync } from 'node:fs'
import path from 'node:path'
import semver from 'semver'
import {
  handToUser,
  type ProjectRun,
  readJsonReport,
  repositoryRoot,
  runNodeInProject,
  writeProjectFiles,
} from './fixture-project.js'
import { type TestUser, testUser } from './test-user.js'

// The Jest the fixture projects run on: the workspace's own (Jest 30) by default; CI's
// second leg points this at Jest 29.7 installed from npm, with its own helpers.
const jestInstall = process.env.NSBOX_TEST_JEST_DIR ?? repositoryRoot
const jestPackage = realpathSync(path.join(jestInstall, 'node_modules/jest'))
// CI's Node.js 24 leg sets this to run Jest on that Node.js.
const nodeBinary = process.env.NSBOX_TEST_NODE ?? process.execPath

/** The version of the Node.js the fixture projects run on, such as `24.11.0`. */
export const nodeVersion: string = execFileSync(nodeBinary, ['-p', 'process.versions.node'], {
  encoding: 'utf8',
}).trim()
// What fixture projects may use next to Jest: TypeScript through babel or ts-jest.
const HELPERS = [
  '@babel/preset-typescript',
  '@babel/plugin-transform-modules-commonjs',
  'ts-jest',
  'typescript',
]
const runnerPackage = path.join(repositoryRoot, 'packages/jest-env')
const corePackage = path.join(repositoryRoot, 'packages/core')
// The dependencies from npm of nsbox's packages (they are copied next to each other),
// with the package each is installed for.
const npmDependencies = [runnerPackage, corePackage].flatMap((source) =>
  Object.keys(
    JSON.parse(readFileSync(path.join(source, 'package.json'), 'utf8')).dependencies ?? {},
  )
    .filter((name) => !name.startsWith('@nsbox/'))
    .map((name) => ({ name, source })),
)

/** The Jest version the fixture projects run on. */
export const jestVersion: string = JSON.parse(
  readFileSync(path.join(jestPackage, 'package.json'), 'utf8'),
).version

/** Whether this Jest passes `runner: [path, options]` options on (Jest 30.4.1 and later). */
export const jestTakesRunnerOptions = semver.gte(jestVersion, '30.4.1')

/** A small Jest project to run: its files, its runner and its config. */
export interface JestProject {
  /** Paths relative to the project, and their contents. */
  files: Record<string, string>
  /** The nsbox runner's options, or `'default'` for Jest's own runner. */
  runner: Record<string, unknown> | 'default'
  /**
   * How the options reach the runner: `'tuple'`, `runner: ['@nsbox/jest-env', options]`
   * (the default where this Jest takes it), or `'module'`, a runner module of the
   * project's own made with `createRunner` (the default elsewhere).
   */
  runnerForm?: 'tuple' | 'module'
  /** More Jest config, as JSON. */
  config?: Record<string, unknown>
  /** Run Jest where no sandbox can start (see {@link onBlockedHost}). */
  onBlockedHost?: boolean
  /** Run Jest believing it runs on this platform, such as darwin. */
  platform?: NodeJS.Platform
  /**
   * The directory whose `node_modules` Jest and its helpers are linked from. Default: the
   * workspace's (or `$NSBOX_TEST_JEST_DIR`).
   */
  install?: string
}

/** What a Jest run printed and reported (its `--json` report). */
export type JestRun = ProjectRun<{
  success: boolean
  numFailedTests: number
  numTotalTestSuites: number
  testResults: Array<{ name: string; status: string; message: string }>
}>

/**
 * Writes a Jest project into a fresh directory under /tmp, owned by the test user, with
 * the workspace's runner and the Jest under test installed.
 */
export async function writeJestProject(
  project: JestProject,
  user: TestUser = testUser(),
): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const form = project.runnerForm ?? (jestTakesRunnerOptions ? 'tuple' : 'module')
  const config: Record<string, unknown> = {
    testEnvironment: 'node',
    cacheDirectory: '<rootDir>/.jest-cache',
    ...project.config,
  }
  const files: Record<string, string> = { 'package.json': '{ "private": true }\n' }
  if (project.runner !== 'default' && form === 'tuple') {
    config.runner = ['@nsbox/jest-env', project.runner]
  } else if (project.runner !== 'default') {
    config.runner = '<rootDir>/nsbox.runner.mjs'
    files['nsbox.runner.mjs'] = [
      "import { createRunner } from '@nsbox/jest-env'",
      `export default createRunner(${JSON.stringify(project.runner)})`,
      '',
    ].join('\n')
  }
  files['jest.config.js'] = `module.exports = ${JSON.stringify(config, null, 2)}\n`
  const { root, cleanup } = await writeProjectFiles('nsbox-jest-', {
    ...files,
    ...project.files,
  })
  // nsbox's packages are copied, not linked, as npm would install them: Jest runs the
  // runner through the project's transforms unless it lies in node_modules.
  for (const [name, source] of [
    ['jest-env', runnerPackage],
    ['core', corePackage],
  ] as const) {
    const copy = path.join(root, 'node_modules/@nsbox', name)
    mkdirSync(copy, { recursive: true })
    cpSync(path.join(source, 'package.json'), path.join(copy, 'package.json'))
    cpSync(path.join(source, 'dist'), path.join(copy, 'dist'), { recursive: true })
  }
  for (const { name, source } of npmDependencies) {
    symlinkSync(
      realpathSync(path.join(source, 'node_modules', name)),
      path.join(root, 'node_modules', name),
    )
  }
  const install = project.install ?? jestInstall
  symlinkSync(
    realpathSync(path.join(install, 'node_modules/jest')),
    path.join(root, 'node_modules/jest'),
  )
  for (const helper of HELPERS) {
    const installed = path.join(install, 'node_modules', helper)
    if (!existsSync(installed)) continue
    mkdirSync(path.dirname(path.join(root, 'node_modules', helper)), { recursive: true })
    symlinkSync(realpathSync(installed), path.join(root, 'node_modules', helper))
  }
  await handToUser(root, user)
  return { root, cleanup }
}

/** Runs Jest as the test user in a project written by {@link writeJestProject}. */
export function startJest(
  root: string,
  args: string[],
  options: {
    user?: TestUser
    nodeArgs?: string[]
    onBlockedHost?: boolean
    platform?: NodeJS.Platform
  } = {},
) {
  // The project's own Jest, wherever it is linked from.
  const jestBin = path.join(realpathSync(path.join(root, 'node_modules/jest')), 'bin/jest.js')
  const jest = [...(options.nodeArgs ?? []), jestBin, ...args]
  return runNodeInProject(root, nodeBinary, jest, options)
}

/**
 * Writes a Jest project (see {@link writeJestProject}), runs the real `jest --ci` there as
 * the unprivileged test user, and returns its output and JSON report.
 */
export async function runJestProject(
  project: JestProject,
  args: string[] = [],
  options: { user?: TestUser; nodeArgs?: string[] } = {},
): Promise<JestRun & { cleanup: () => Promise<void> }> {
  const { root, cleanup } = await writeJestProject(project, options.user)
  const child = await startJest(root, ['--ci', '--json', '--outputFile=report.json', ...args], {
    ...options,
    onBlockedHost: project.onBlockedHost ?? false,
    platform: project.platform,
  })
  const report = readJsonReport<JestRun['report']>(root, 'report.json', {
    success: false,
    numFailedTests: 0,
    numTotalTestSuites: 0,
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
