import { chownSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import { dir, setGracefulCleanup } from 'tmp-promise'
import { afterAll } from 'vitest'
import { isRoot, type TestUser, testUser } from './test-user.js'

/** The checkout the tests run from. */
export const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url))

const nsboxCli = path.join(repositoryRoot, 'packages/core/dist/cli/main.js')

// Fixture projects are removed by the tests' own cleanup; this also covers a test run
// that exits before reaching it.
setGracefulCleanup()

/**
 * Makes a fresh project directory under /tmp with these files and symbolic links (paths
 * relative to it, links to their targets), for the test user to run a test runner in.
 * Hand it over with {@link handToUser} once its `node_modules` is in place.
 */
export async function writeProjectFiles(
  prefix: string,
  files: Record<string, string>,
  links: Record<string, string> = {},
): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const { path: root, cleanup } = await dir({ prefix, unsafeCleanup: true })
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true })
    writeFileSync(path.join(root, name), content)
  }
  for (const [name, target] of Object.entries(links)) symlinkSync(target, path.join(root, name))
  return { root, cleanup }
}

const fakePlatform = new URL('./fake-platform.mjs', import.meta.url).href

/** Gives a fixture project to the test user, who runs the test runner there. */
export async function handToUser(root: string, user: TestUser): Promise<void> {
  if (isRoot) await execa('chown', ['-R', `${user.uid}:${user.gid}`, root])
  chownSync(root, user.uid, user.gid)
}

/** The whole environment a fixture run gets: the test user's, plain CI output. */
export function fixtureEnv(user: TestUser): Record<string, string> {
  return {
    HOME: user.home,
    USER: user.name,
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    CI: '1',
    NO_COLOR: '1',
  }
}

/**
 * Runs `node ARGS…` in a fixture project as the test user, with {@link fixtureEnv}; with
 * `onBlockedHost`, where no sandbox can start (see {@link onBlockedHost}); with `platform`,
 * every Node.js process of the run believing it runs on that platform (such as darwin).
 */
export function runNodeInProject(
  root: string,
  nodeBinary: string,
  args: string[],
  options: { user?: TestUser; onBlockedHost?: boolean; platform?: NodeJS.Platform } = {},
) {
  const user = options.user ?? testUser()
  const blocked = options.onBlockedHost ? onBlockedHost(nodeBinary) : []
  const platform = options.platform
    ? { NODE_OPTIONS: `--import=${fakePlatform}`, NSBOX_TEST_PLATFORM: options.platform }
    : {}
  return execa(blocked.length > 0 ? process.execPath : nodeBinary, [...blocked, ...args], {
    cwd: root,
    uid: user.uid,
    gid: user.gid,
    env: { ...fixtureEnv(user), ...platform },
    extendEnv: false,
    reject: false,
  })
}

/** What a test runner printed and reported in a fixture project. */
export interface ProjectRun<Report> {
  exitCode: number
  stdout: string
  stderr: string
  /** The runner's JSON report. */
  report: Report
  /** The project's directory, to look at what the run wrote. */
  root: string
}

/** A test runner's JSON report written into the project, or `empty` when there is none. */
export function readJsonReport<T>(root: string, file: string, empty: T): T {
  try {
    return JSON.parse(readFileSync(path.join(root, file), 'utf8')) as T
  } catch {
    return empty // no report: the run's output says why
  }
}

/**
 * The command that runs `node …` where no sandbox can start: inside a sandbox of its own
 * whose user namespace allows no further user namespaces (`user.max_user_namespaces=0`).
 * Prefix it to the Node.js arguments and run it with this process's Node.js.
 */
export function onBlockedHost(nodeBinary: string): string[] {
  return [
    nsboxCli,
    'run',
    '--uid',
    'root',
    '--',
    'sh',
    '-c',
    'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"',
    'sh',
    nodeBinary,
  ]
}

/** The JSON report's status of each test file, by path relative to the project. */
export function statusByFile(run: {
  root: string
  report: { testResults: Array<{ name: string; status: string }> }
}): Record<string, string> {
  return Object.fromEntries(
    run.report.testResults.map((result) => [path.relative(run.root, result.name), result.status]),
  )
}

/**
 * Removes, after the test file's tests, every fixture handed to the function this returns;
 * also wraps a project runner so that its projects are removed.
 */
export function cleanUpAfterAll(): {
  add: (cleanup: () => Promise<void>) => void
  tracked: <Args extends unknown[], Run extends { cleanup: () => Promise<void> }>(
    runProject: (...args: Args) => Promise<Run>,
  ) => (...args: Args) => Promise<Run>
} {
  const cleanups: Array<() => Promise<void>> = []
  afterAll(async () => {
    await Promise.all(cleanups.map((cleanup) => cleanup()))
  })
  return {
    add: (cleanup) => cleanups.push(cleanup),
    tracked:
      (runProject) =>
      async (...args) => {
        const result = await runProject(...args)
        cleanups.push(result.cleanup)
        return result
      },
  }
}
