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
export default function setup(): void {
  accessSync(new URL('../../packages/core/dist/index.js', import.meta.url), constants.R_OK)
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

function ensureUser(name: string): void {
  try {
    execFileSync('getent', ['passwd', name])
  } catch {
    execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', name])
  }
}
