import { dir } from 'tmp-promise'
import { afterAll } from 'vitest'
import { handToUser } from './fixture-project.js'
import { testUser } from './test-user.js'

/** Something a test file made on the host, undone once its tests are done. */
export type Cleanup = () => void | Promise<void>

/**
 * What one test file left on the host, undone in reverse order after its last test, and
 * a fresh directory of the test user under `parent` that goes the same way.
 */
export function fileCleanups(): {
  cleanups: Cleanup[]
  userDir: (parent: string, prefix: string) => Promise<string>
} {
  const cleanups: Cleanup[] = []
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup()
  })
  const userDir = async (parent: string, prefix: string): Promise<string> => {
    const made = await dir({ prefix, tmpdir: parent, unsafeCleanup: true })
    cleanups.push(made.cleanup)
    await handToUser(made.path, testUser())
    return made.path
  }
  return { cleanups, userDir }
}
