import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { expect, it } from 'vitest'
import { cleanUpAfterAll } from '../support/fixture-project.js'
import { fixtureSources } from '../support/fixture-sources.js'
import { filesContaining, hostMemory, secretFile } from '../support/runner-boundary.js'
import { describeWithSandboxes } from '../support/unprivileged.js'
import { runVitestProject, statusByFile, vitestVersion } from '../support/vitest-project.js'

const cleanups = cleanUpAfterAll()
const run = cleanups.tracked(runVitestProject)
const PASSING = fixtureSources('vitest').passing

await describeWithSandboxes(`the pool's boundary on Vitest ${vitestVersion}`, () => {
  it("refuses, through Vitest's RPC, what the file's sandbox cannot read", async () => {
    const secret = await secretFile(cleanups)
    // Each asks the main process for a file the sandbox cannot read: the hidden file, the
    // same through a link in the project, and the host's /proc.
    const probe = `
import { expect, test } from 'vitest'
const { rpc } = globalThis.__vitest_worker__
const fetch = (id) => rpc.fetch(id, new URL(import.meta.url).pathname, '__vitest__')
test.each([
  ['${secret.file}?raw', 'hide'],
  ['${secret.file}?url', 'hide'],
  [new URL('./link-to-secret', import.meta.url).pathname + '?raw', 'hide'],
  ['/proc/self/environ?raw', 'PID space'],
  ['./link-to-secret?raw', 'hide'],
])('refuses %s', async (id, reason) => {
  await expect(fetch(id)).rejects.toThrow(reason)
})
test('still serves the project', async () => {
  const served = await fetch(new URL('./own.txt', import.meta.url).pathname + '?raw')
  expect(served.file).toMatch(/own\\.txt$/)
})
`
    const result = await run({
      files: { 'tests/probe.test.js': probe, 'tests/own.txt': 'own words\n' },
      links: { 'tests/link-to-secret': secret.file },
      pool: { hide: [secret.directory] },
    })
    expect(result.exitCode, result.stdout + result.stderr).toBe(0)
    expect(result.stdout + result.stderr).not.toContain(secret.content)
    // Nor did the main process leave it where the sandbox reads (Vitest 5's module cache).
    expect(filesContaining(result.root, secret.content)).toEqual([])
  })

  it('keeps the runner read-only for the file, while snapshots and coverage land', async () => {
    const plant = `
import fs from 'node:fs'
import { expect, test } from 'vitest'
test.each(['vitest.config.js', 'package.json', 'node_modules/planted.js'])('cannot write %s', (file) => {
  expect(() => fs.appendFileSync(file, 'globalThis.planted = true\\n')).toThrow(/EROFS|EACCES/)
})
test('snapshot', () => { expect({ answer: 42 }).toMatchSnapshot() })
`
    const files = {
      'src/add.js': 'export function add(a, b) {\n  return a + b\n}\n',
      'tests/plant.test.js': plant,
      'tests/add.test.js':
        "import { expect, test } from 'vitest'\nimport { add } from '../src/add.js'\ntest('adds', () => { expect(add(1, 2)).toBe(3) })\n",
    }
    const result = await run({ files, pool: {} }, [
      '-u',
      '--coverage.enabled',
      '--coverage.reporter=json-summary',
    ])
    expect(result.exitCode, result.stdout + result.stderr).toBe(0)
    expect(readFileSync(path.join(result.root, 'vitest.config.js'), 'utf8')).not.toContain(
      'planted',
    )
    expect(existsSync(path.join(result.root, 'node_modules/planted.js'))).toBe(false)
    expect(existsSync(path.join(result.root, 'tests/__snapshots__/plant.test.js.snap'))).toBe(true)
    const summary = JSON.parse(
      readFileSync(path.join(result.root, 'coverage/coverage-summary.json'), 'utf8'),
    )
    expect(summary.total.lines.pct).toBe(100)
  })

  it('fails a file that sends a 300 MiB message or too much console output; the host stays small', async () => {
    const result = await run({
      files: {
        'tests/huge.test.js': `import { test } from 'vitest'\ntest('logs 300 MiB at once', () => { console.log('x'.repeat(300 * 2 ** 20)) })\n`,
        'tests/chatty.test.js': `import { test } from 'vitest'\ntest('logs 12 MiB', () => { for (let i = 0; i < 192; i++) console.log('y'.repeat(64 * 1024)) })\n`,
        'tests/fine.test.js': PASSING,
        ...hostMemory.files('vitest'),
      },
      pool: {},
      test: { globalSetup: [`./${hostMemory.setupFile}`] },
    })
    const peak = hostMemory.peakMiB(result.root)
    console.log(`host Vitest peak RSS: ${peak.toFixed(0)} MiB`)
    expect(statusByFile(result)).toEqual({
      'tests/huge.test.js': 'failed',
      'tests/chatty.test.js': 'failed',
      'tests/fine.test.js': 'passed',
    })
    const output = result.stdout + result.stderr
    expect(output).toMatch(
      /nsbox: tests\/huge\.test\.js sent the test runner a message of 300\.0 MiB, over the cap of 16 MiB on each message \(maxMessageSize: 16 MiB\)/,
    )
    expect(output).toContain('nsbox: tests/chatty.test.js printed over 8 MiB of console output')
    expect(peak).toBeLessThan(300)
  })

  it("fails a file whose docblock loosens its sandbox under docblock: 'tighten-only'", async () => {
    const result = await run({
      files: {
        'tests/opens.test.js': `/** @nsbox network=host */\n${PASSING}`,
        'tests/raises.test.js': `/** @nsbox memory=1G */\n${PASSING}`,
        'tests/lowers.test.js': `/** @nsbox memory=128M network=none */\n${PASSING}`,
      },
      pool: { memory: '512M', docblock: 'tighten-only' },
    })
    expect(statusByFile(result)).toEqual({
      'tests/opens.test.js': 'failed',
      'tests/raises.test.js': 'failed',
      'tests/lowers.test.js': 'passed',
    })
    const output = result.stdout + result.stderr
    expect(output).toContain(
      "nsbox: tests/opens.test.js: the @nsbox docblock opens the network from 'loopback' to 'host'",
    )
    expect(output).toContain(
      'nsbox: tests/raises.test.js: the @nsbox docblock raises `memory` from 512M to 1G',
    )
  })
})
