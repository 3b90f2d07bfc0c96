import { execFileSync } from 'node:child_process'
import { accessSync, constants, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { isRoot, TEST_USER_NAME, testUser, UNDELEGATED_USER_NAME } from './test-user.js'

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url))
const cliEntry = `${repositoryRoot}/packages/core/dist/cli/main.js`

/**
 * Integration tests must prove rootless behaviour, so under root they run every sandbox
 * as an unprivileged account, created here when it does not exist yet.
 */
export default async function setup(): Promise<void> {
  accessSync(new URL('../../packages/core/dist/index.js', import.meta.url), constants.R_OK)
  if (process.env.NSBOX_TEST_ENTER_SCOPE === '1') await enterSystemdScope()
  if (!isRoot) return
  for (const name of [TEST_USER_NAME, UNDELEGATED_USER_NAME]) ensureUser(name)
  // The main test account gets a cgroup subtree the way a user would: with the product's
  // own `nsbox delegate`. On a cgroup v2 host that only works for a process started
  // through it, so the cgroup v2 harness starts the whole test run that way instead.
  if (/^\d+:[^:]*\bmemory\b/m.test(readFileSync('/proc/self/cgroup', 'utf8'))) {
    execFileSync(process.execPath, [cliEntry, 'delegate', '--user', TEST_USER_NAME], {
      stdio: 'ignore',
    })
  }
  const user = testUser()
  try {
    execFileSync('setpriv', [
      '--reuid',
      String(user.uid),
      '--regid',
      String(user.gid),
      '--clear-groups',
      'test',
      '-r',
      `${repositoryRoot}/packages/core/dist/index.js`,
    ])
  } catch {
    throw new Error(
      `The test user ${TEST_USER_NAME} cannot read ${repositoryRoot}. Integration tests run sandboxes as that user: check out the repository in a directory every user can read (such as /srv or /home), or make its parent directories world-searchable (chmod o+x).`,
    )
  }
}

/**
 * The systemd VM leg runs tests from a login session that is not delegated: this main
 * process asks for its delegated systemd user scope first, as the Vitest pool would, so
 * that every test process starts inside it, as under a delegated subtree.
 */
async function enterSystemdScope(): Promise<void> {
  const { probe } = (await import(
    `${repositoryRoot}/packages/core/dist/index.js`
  )) as typeof import('@nsbox/core')
  const { cgroups } = await probe()
  if (cgroups.systemdScope === null) {
    throw new Error(
      `NSBOX_TEST_ENTER_SCOPE=1, but nsbox got no systemd user scope here: ${cgroups.missing?.reason ?? 'no reason given'}`,
    )
  }
}

function ensureUser(name: string): void {
  try {
    execFileSync('getent', ['passwd', name])
  } catch {
    execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', name])
  }
}
