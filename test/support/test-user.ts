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
  const entry = execFileSync('getent', ['passwd', TEST_USER_NAME], { encoding: 'utf8' })
    .trim()
    .split(':')
  return {
    name: TEST_USER_NAME,
    uid: Number(entry[2]),
    gid: Number(entry[3]),
    home: entry[5] ?? '/',
  }
}
