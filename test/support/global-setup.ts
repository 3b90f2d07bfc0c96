import { execFileSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { isRoot, TEST_USER_NAME, testUser } from './test-user.js'

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url))

/**
 * Integration tests must prove rootless behaviour, so under root they run every sandbox
 * as an unprivileged account, created here when it does not exist yet.
 */
export default function setup(): void {
  accessSync(new URL('../../packages/core/dist/index.js', import.meta.url), constants.R_OK)
  if (!isRoot) return
  try {
    execFileSync('getent', ['passwd', TEST_USER_NAME])
  } catch {
    execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', TEST_USER_NAME])
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
