import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { expect, it } from 'vitest'
import { cleanUpAfterAll, statusByFile } from '../support/fixture-project.js'
import { fixtureSources } from '../support/fixture-sources.js'
import { jestVersion, runJestProject } from '../support/jest-project.js'
import { filesContaining, hostMemory, secretFile } from '../support/runner-boundary.js'
import { describeWithSandboxes } from '../support/unprivileged.js'

const cleanups = cleanUpAfterAll()
const run = cleanups.tracked(runJestProject)
const PASSING = fixtureSources('jest').passing

await describeWithSandboxes(`the runner's boundary on Jest ${jestVersion}`, () => {
  it('refuses coverage of a file the sandbox cannot read, which Jest would read for its report', async () => {
    const secret = await secretFile(cleanups)
    // Jest's main process reads the source of every file a result's coverage names.
    const forged = `
test('reports coverage of a hidden file', () => {
  globalThis.__coverage__ = globalThis.__coverage__ || {}
  globalThis.__coverage__['${secret.file}'] = {
    path: '${secret.file}',
    statementMap: { 0: { start: { line: 1, column: 0 }, end: { line: 1, column: 20 } } },
    fnMap: {}, branchMap: {}, s: { 0: 1 }, f: {}, b: {},
  }
})
`
    const result = await run(
      {
        files: { 'tests/forged.test.js': forged, 'tests/fine.test.js': PASSING },
        runner: { hide: [secret.directory] },
      },
      ['--coverage', '--coverageReporters=html', '--coverageReporters=json'],
    )
    expect(statusByFile(result)).toEqual({
      'tests/forged.test.js': 'failed',
      'tests/fine.test.js': 'passed',
    })
    expect(result.stderr).toContain(
      `nsbox: tests/forged.test.js asked the test runner to read ${secret.file}, which its sandbox cannot read: the \`hide\` option hides ${secret.directory}`,
    )
    expect(filesContaining(result.root, secret.content)).toEqual([])
  })

  it('keeps the runner read-only for the file, while snapshots and coverage land', async () => {
    const plant = `
const fs = require('node:fs')
test.each(['jest.config.js', 'package.json', 'node_modules/planted.js'])('cannot write %s', (file) => {
  expect(() => fs.appendFileSync(file, 'globalThis.planted = true\\n')).toThrow(/EROFS|EACCES/)
})
test('snapshot', () => { expect({ answer: 42 }).toMatchSnapshot() })
`
    const files = {
      'src/add.js': 'exports.add = (a, b) => {\n  return a + b\n}\n',
      'tests/plant.test.js': plant,
      'tests/add.test.js':
        "const { add } = require('../src/add')\ntest('adds', () => { expect(add(1, 2)).toBe(3) })\n",
    }
    // A careful user's options: everything read-only but the project.
    const result = await run({ files, runner: { readOnly: true, rw: ['.'] } }, [
      '-u',
      '--ci=false',
      '--coverage',
      '--coverageReporters=json-summary',
    ])
    expect(result.exitCode, result.stdout + result.stderr).toBe(0)
    expect(readFileSync(path.join(result.root, 'jest.config.js'), 'utf8')).not.toContain('planted')
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
        'tests/huge.test.js': `test('logs 300 MiB at once', () => { console.log('x'.repeat(300 * 2 ** 20)) })\n`,
        'tests/chatty.test.js': `test('logs 12 MiB', () => { for (let i = 0; i < 192; i++) console.log('y'.repeat(64 * 1024)) })\n`,
        'tests/fine.test.js': PASSING,
        ...hostMemory.files('jest'),
      },
      runner: {},
      config: { globalTeardown: `<rootDir>/${hostMemory.setupFile}` },
    })
    const peak = hostMemory.peakMiB(result.root)
    console.log(`host Jest peak RSS: ${peak.toFixed(0)} MiB`)
    expect(statusByFile(result)).toEqual({
      'tests/huge.test.js': 'failed',
      'tests/chatty.test.js': 'failed',
      'tests/fine.test.js': 'passed',
    })
    expect(result.stderr).toContain(
      'nsbox: tests/huge.test.js sent the test runner a message of more than 16 MiB, over the cap of 16 MiB on each message (maxMessageSize: 16 MiB)',
    )
    expect(result.stderr).toContain(
      'nsbox: tests/chatty.test.js printed over 8 MiB of console output',
    )
    expect(peak).toBeLessThan(300)
  })

  it("fails a file whose docblock loosens its sandbox under docblock: 'tighten-only'", async () => {
    const result = await run({
      files: {
        'tests/opens.test.js': `/** @nsbox network=host */\n${PASSING}`,
        'tests/raises.test.js': `/** @nsbox memory=1G */\n${PASSING}`,
        'tests/lowers.test.js': `/** @nsbox memory=128M network=none */\n${PASSING}`,
      },
      runner: { memory: '512M', docblock: 'tighten-only' },
    })
    expect(statusByFile(result), result.stderr).toEqual({
      'tests/opens.test.js': 'failed',
      'tests/raises.test.js': 'failed',
      'tests/lowers.test.js': 'passed',
    })
    expect(result.stderr).toContain(
      "nsbox: tests/opens.test.js: the @nsbox docblock opens the network from 'loopback' to 'host'",
    )
    expect(result.stderr).toContain(
      'nsbox: tests/raises.test.js: the @nsbox docblock raises `memory` from 512M to 1G',
    )
  })
})
