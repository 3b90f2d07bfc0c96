import { execFileSync } from 'node:child_process'

/** The account whose sandboxes the integration tests start. */
export interface TestUser {
  name: string
  uid: number
  gid: number
  home: string
}

/** The name of the unprivileged account the tests use when they run as root. */
export const TEST_USER_NAME = process.env.NSBOX_TEST_USER ?? 'nsbox-test'

/**
 * A second unprivileged account that is never given a cgroup subtree: with it, tests see
 * what a user without delegation gets (the watchdog, and the doctor's fix).
 */
export const UNDELEGATED_USER_NAME = 'nsbox-test-nocg'

/** Whether the test process itself runs as root (then sandboxes run as {@link TEST_USER_NAME}). */
export const isRoot = process.getuid?.() === 0

/** The unprivileged user sandboxes run as: the current user, or the test account under root. */
export function testUser(): TestUser {
  if (!isRoot) {
    return {
      name: process.env.USER ?? 'current',
      uid: process.getuid?.() ?? -1,
      gid: process.getgid?.() ?? -1,
      home: process.env.HOME ?? '/',
    }
  }
  return lookUpUser(TEST_USER_NAME)
}

/** The account without cgroup delegation; `null` unless the tests run as root. */
export function undelegatedUser(): TestUser | null {
  return isRoot ? lookUpUser(UNDELEGATED_USER_NAME) : null
}

function lookUpUser(name: string): TestUser {
  const entry = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim().split(':')
  return {
    name,
    uid: Number(entry[2]),
    gid: Number(entry[3]),
    home: entry[5] ?? '/',
  }
}
