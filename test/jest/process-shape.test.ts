import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { dir } from 'tmp-promise'
import { expect, it } from 'vitest'
import { cleanUpAfterAll, handToUser, repositoryRoot } from '../support/fixture-project.js'
import { jestVersion, runJestProject } from '../support/jest-project.js'
import { uniqueMarker } from '../support/processes.js'
import { isRoot, testUser } from '../support/test-user.js'
import { describeWithSandboxes } from '../support/unprivileged.js'

const cleanups = cleanUpAfterAll()
const run = cleanups.tracked(runJestProject)

// What the code under test can see of its own process, written next to the project.
const SHAPE_TEST = `
const fs = require('node:fs')
const path = require('node:path')
test('records what it sees of its process', () => {
  const root = path.resolve(__dirname, '..')
  fs.writeFileSync(path.join(root, path.basename(__filename) + '.json'), JSON.stringify({
    argv0: process.argv[0],
    // What commander's program.parse(process.argv) takes as the command's arguments.
    userArgs: process.argv.slice(2),
    execArgv: process.execArgv,
    cwd: path.relative(root, process.cwd()),
    title: process.title,
    envKeys: Object.keys(process.env).sort(),
  }))
})
`

// Two files, so that Jest runs them in its workers rather than in its own process.
const SHAPE_FILES = { 'tests/a.test.js': SHAPE_TEST, 'tests/b.test.js': SHAPE_TEST }

function shapesOf(root: string): Record<string, unknown>[] {
  return ['a', 'b'].map((name) =>
    JSON.parse(readFileSync(path.join(root, `${name}.test.js.json`), 'utf8')),
  )
}

await describeWithSandboxes(`what a test sees of its process, on Jest ${jestVersion}`, () => {
  it("matches Jest's own workers, with Jest's cache in /tmp, in both isolate modes", async () => {
    // Jest's default cache directory is under /tmp: the sandbox must still share it.
    const cacheDirectory = `/tmp/${uniqueMarker('jest-cache')}`
    try {
      const files = SHAPE_FILES
      const config = { cacheDirectory }
      const jest = await run({ files, runner: 'default', config }, ['--maxWorkers=2'])
      expect(jest.report.success, jest.stdout + jest.stderr).toBe(true)
      const expected = shapesOf(jest.root)
      expect(expected[0]?.userArgs).toEqual([]) // a worker's, not Jest's own argv
      for (const isolate of ['file', 'worker']) {
        const nsbox = await run({ files, runner: { isolate }, config }, ['--maxWorkers=2'])
        expect(nsbox.report.success, nsbox.stdout + nsbox.stderr).toBe(true)
        expect(shapesOf(nsbox.root)).toEqual(expected)
      }
    } finally {
      rmSync(cacheDirectory, { recursive: true, force: true })
    }
  })

  it("isolate: 'worker' empties /tmp between files without touching an rw path bound deep inside it", async () => {
    const host = await dir({ prefix: 'nsbox-kept-', unsafeCleanup: true })
    cleanups.add(host.cleanup)
    const inner = path.join(host.path, 'inner')
    mkdirSync(inner)
    writeFileSync(path.join(inner, 'keep.txt'), 'the host file\n')
    await handToUser(host.path, testUser())
    execFileSync('chmod', ['755', host.path])
    const sees = `test('sees it', () => expect(require('node:fs').existsSync('${inner}/keep.txt')).toBe(true))\n`
    const files = { 'tests/a.test.js': sees, 'tests/b.test.js': sees }
    const nsbox = await run({ files, runner: { isolate: 'worker', rw: [inner] } }, [
      '--maxWorkers=1',
    ])
    expect(nsbox.report.success, nsbox.stdout + nsbox.stderr).toBe(true)
    expect(readFileSync(path.join(inner, 'keep.txt'), 'utf8')).toBe('the host file\n')
  })

  it.runIf(isRoot)(
    'runs a project whose Jest and dependencies live under another directory of /tmp',
    async () => {
      // As in a clone of a workspace under /tmp: the fixture project is /tmp/nsbox-jest-…,
      // its node_modules link into the clone's store, /tmp/nsbox-store-…/node_modules.
      const store = await dir({ prefix: 'nsbox-store-', unsafeCleanup: true })
      const modules = path.join(store.path, 'node_modules')
      mkdirSync(modules)
      execFileSync('chmod', ['755', store.path])
      execFileSync('mount', ['--bind', path.join(repositoryRoot, 'node_modules'), modules])
      try {
        const passing = "test('passes', () => expect(1).toBe(1))\n"
        const files = { 'tests/a.test.js': passing, 'tests/b.test.js': passing }
        for (const isolate of ['file', 'worker']) {
          // isolate: 'worker' empties /tmp between files, around what is bound in there.
          const nsbox = await run({ files, runner: { isolate }, install: store.path }, [
            '--maxWorkers=1',
          ])
          expect(nsbox.stdout + nsbox.stderr).not.toContain('Cannot find module')
          expect(nsbox.report.success, nsbox.stdout + nsbox.stderr).toBe(true)
        }
      } finally {
        execFileSync('umount', [modules])
        await store.cleanup()
      }
    },
  )
})
