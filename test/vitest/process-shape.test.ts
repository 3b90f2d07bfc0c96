import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { dir } from 'tmp-promise'
import { expect, it } from 'vitest'
import { cleanUpAfterAll, repositoryRoot } from '../support/fixture-project.js'
import { isRoot } from '../support/test-user.js'
import { describeWithSandboxes } from '../support/unprivileged.js'
import { runVitestProject, vitestVersion } from '../support/vitest-project.js'

const cleanups = cleanUpAfterAll()
const run = cleanups.tracked(runVitestProject)

// What the code under test can see of its own process, written next to the project.
const SHAPE_TEST = `
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'vitest'
test('records what it sees of its process', () => {
  const root = path.resolve(import.meta.dirname, '..')
  fs.writeFileSync(path.join(root, 'shape.json'), JSON.stringify({
    argv0: process.argv[0],
    userArgs: process.argv.slice(2),
    execArgv: process.execArgv,
    cwd: path.relative(root, process.cwd()),
    title: process.title,
    envKeys: Object.keys(process.env).sort(),
  }))
})
`

function shapeOf(root: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(root, 'shape.json'), 'utf8'))
}

await describeWithSandboxes(`what a test sees of its process, on Vitest ${vitestVersion}`, () => {
  it("matches Vitest's own forks workers", async () => {
    const files = { 'tests/shape.test.js': SHAPE_TEST }
    const forks = await run({ files, pool: 'forks' })
    expect(forks.report.success, forks.stdout + forks.stderr).toBe(true)
    const nsbox = await run({ files, pool: {} })
    expect(nsbox.report.success, nsbox.stdout + nsbox.stderr).toBe(true)
    expect(shapeOf(nsbox.root)).toEqual(shapeOf(forks.root))
  })

  it.runIf(isRoot)(
    'runs a project whose Vitest and dependencies live under another directory of /tmp',
    async () => {
      const store = await dir({ prefix: 'nsbox-store-', unsafeCleanup: true })
      const modules = path.join(store.path, 'node_modules')
      mkdirSync(modules)
      execFileSync('chmod', ['755', store.path])
      execFileSync('mount', ['--bind', path.join(repositoryRoot, 'node_modules'), modules])
      try {
        const files = {
          'tests/passing.test.js':
            "import { expect, test } from 'vitest'\ntest('passes', () => expect(1).toBe(1))\n",
        }
        const nsbox = await run({ files, pool: {}, install: store.path })
        expect(nsbox.report.success, nsbox.stdout + nsbox.stderr).toBe(true)
      } finally {
        execFileSync('umount', [modules])
        await store.cleanup()
      }
    },
  )
})
