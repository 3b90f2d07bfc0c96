import { lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { dir } from 'tmp-promise'
import { handToUser } from './fixture-project.js'
import { testUser } from './test-user.js'

/**
 * A secret file outside the project (under /var/tmp, which sandboxes see), owned by the
 * test user, for a runner's `hide` option to hide; removed after the test file.
 */
export async function secretFile(cleanups: { add: (cleanup: () => Promise<void>) => void }) {
  const { path: directory, cleanup } = await dir({
    prefix: 'nsbox-secrets-',
    tmpdir: '/var/tmp',
    unsafeCleanup: true,
  })
  cleanups.add(cleanup)
  const content = `the secret ${Math.random().toString(36).slice(2)}`
  const file = path.join(directory, 'id_rsa')
  writeFileSync(file, content)
  await handToUser(directory, testUser())
  return { directory, file, content }
}

const REPORT = 'host-memory.txt'

/**
 * Measures the peak memory (RSS) of a test runner's main process: a global setup file
 * whose teardown, run in that process at the end, writes its peak into the project.
 */
export const hostMemory = {
  /** The global setup file, relative to the project. */
  setupFile: 'host-memory.setup.cjs',
  /** The files to add to the project. */
  files: (style: 'vitest' | 'jest'): Record<string, string> => {
    const write = `require('node:fs').writeFileSync(require('node:path').join(${style === 'vitest' ? 'process.cwd()' : '__dirname'}, '${REPORT}'), String(process.resourceUsage().maxRSS))`
    return {
      'host-memory.setup.cjs':
        style === 'vitest'
          ? `module.exports = () => () => { ${write} }\n`
          : `module.exports = () => { ${write} }\n`,
    }
  },
  /** The peak RSS the teardown wrote, in MiB. */
  peakMiB: (root: string): number => Number(readFileSync(path.join(root, REPORT), 'utf8')) / 1024,
}

/** The files under `root` (links not followed) whose contents include `text`. */
export function filesContaining(root: string, text: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((entry) => {
    const file = path.join(root, entry)
    return lstatSync(file).isFile() && readFileSync(file, 'utf8').includes(text)
  })
}
