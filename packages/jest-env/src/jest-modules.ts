import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { SetupFailedError } from '@nsbox/core'
import type { JestModules } from './protocol.js'

const JEST_CORE_BUILD = /^(.*[\\/]@jest[\\/]core[\\/])build[\\/]/

/**
 * Finds the `jest-runner`, `jest-runtime`, `jest-haste-map` and `@jest/transform` that
 * the running Jest uses, so that a file's child runs it with the very same versions. They
 * are resolved from the `@jest/core` this process has loaded (Jest is CommonJS, so it sits
 * in `require.cache`), which is right under npm's and pnpm's layouts alike; failing that,
 * from the project's root. `@jest/transform` is the one `jest-runtime` loads.
 */
export function locateJestModules(rootDir: string): JestModules {
  const from = loadedJestCore() ?? path.join(rootDir, 'package.json')
  const resolve = (name: string, parent = from): string => {
    try {
      return createRequire(parent).resolve(name)
    } catch {
      throw new SetupFailedError(
        'jest',
        `nsbox: cannot find \`${name}\` from ${parent}. The Jest runner @nsbox/jest-env needs Jest 29.7 or 30 installed in the project (npm install --save-dev jest).`,
      )
    }
  }
  const runtime = resolve('jest-runtime')
  return {
    runner: resolve('jest-runner'),
    runtime,
    hasteMap: resolve('jest-haste-map'),
    transform: resolve('@jest/transform', runtime),
  }
}

function loadedJestCore(): string | undefined {
  for (const file of Object.keys(createRequire(import.meta.url).cache)) {
    const match = JEST_CORE_BUILD.exec(file)
    if (match?.[1]) return path.join(match[1], 'package.json')
  }
  return undefined
}

/** The version of the Jest that loaded this runner (its `@jest/core`), or `'unknown'`. */
export function runningJestVersion(rootDir: string = process.cwd()): string {
  const manifest = loadedJestCore() ?? path.join(rootDir, 'node_modules', 'jest', 'package.json')
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version ?? 'unknown'
  } catch {
    return 'unknown'
  }
}
