import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { dir } from 'tmp-promise'
import { expect, it } from 'vitest'
import { cleanUpAfterAll, handToUser } from '../support/fixture-project.js'
import { captureOutput, fixtureSources, until } from '../support/fixture-sources.js'
import { uniqueMarker, waitUntilGone } from '../support/processes.js'
import { testUser } from '../support/test-user.js'
import { describeWithSandboxes } from '../support/unprivileged.js'
import {
  runVitestProject,
  startVitest,
  statusByFile,
  vitestVersion,
  writeVitestProject,
} from '../support/vitest-project.js'

const cleanups = cleanUpAfterAll()
const run = cleanups.tracked(runVitestProject)

const sources = fixtureSources('vitest')
const ALLOCATE_FOREVER = sources.allocateForever
const ALLOCATE_400_MB = sources.allocate400MB
const PASSING = sources.passing

await describeWithSandboxes(`the pool on Vitest ${vitestVersion}`, () => {
  it('runs files that share a port and a /tmp path side by side; the forks pool cannot', async () => {
    const sharedPath = `/tmp/${uniqueMarker('shared')}.txt`
    const files = sources.collidingFiles(sharedPath, 34567)
    const test = { maxWorkers: 4, fileParallelism: true }
    try {
      const sandboxed = await run({ files, pool: {}, test })
      expect(sandboxed.report.success, sandboxed.stdout + sandboxed.stderr).toBe(true)
      expect(Object.values(statusByFile(sandboxed))).toEqual([
        'passed',
        'passed',
        'passed',
        'passed',
      ])
      expect(existsSync(sharedPath)).toBe(false) // the sandboxes' /tmp was their own

      const forks = await run({ files, pool: 'forks', test })
      expect(forks.exitCode).not.toBe(0)
      expect(Object.values(statusByFile(forks))).toContain('failed')
    } finally {
      rmSync(sharedPath, { force: true })
    }
  })

  it('leaves nothing running that a file started and left behind', async () => {
    const marker = uniqueMarker('vitest-grandchild')
    const leaky = sources.leaky(marker)
    const result = await run({ files: { 'tests/leaky.test.js': leaky }, pool: {} })
    expect(result.exitCode, result.stdout).toBe(0)
    expect(await waitUntilGone(marker, 2000)).toEqual([])
  })

  it('fails a file over its memory cap as that file, once, and runs the others', async () => {
    const result = await run({
      files: {
        'tests/big.test.js': ALLOCATE_FOREVER,
        'tests/neighbour.test.js': PASSING,
        'tests/raised.test.js': `/** @nsbox memory=1G */\n${ALLOCATE_400_MB}`,
      },
      pool: { memory: '256M' },
    })
    expect(statusByFile(result)).toEqual({
      'tests/big.test.js': 'failed',
      'tests/neighbour.test.js': 'passed',
      'tests/raised.test.js': 'passed',
    })
    const message =
      /nsbox: tests\/big\.test\.js was killed: memory limit 256 MiB exceeded \(peak \d+\.\d MiB\)/
    expect(
      result.report.testResults.find((file) => file.name.endsWith('big.test.js'))?.message,
    ).toMatch(message)
    const output = result.stdout + result.stderr
    expect(output.match(new RegExp(message, 'g'))).toHaveLength(1)
    expect(output).not.toContain('Unhandled')
    expect(result.exitCode).toBe(1)
  })

  it.each([
    {
      case: 'a wrong docblock, naming the key',
      source: `/** @nsbox memroy=1G */\n${PASSING}`,
      message: 'nsbox: tests/odd.test.js: unknown key `memroy` in the @nsbox docblock',
    },
    {
      case: 'its docblock timeout, naming it',
      source: `/** @nsbox timeout=2s */
import { test } from 'vitest'
test('sleeps', () => new Promise((resolve) => setTimeout(resolve, 30_000)), 60_000)
`,
      message: 'nsbox: tests/odd.test.js was killed: timeout 2 s exceeded',
    },
  ])('fails a file for $case, while its neighbour passes', async ({ source, message }) => {
    const result = await run({
      files: { 'tests/odd.test.js': source, 'tests/fine.test.js': PASSING },
      pool: {},
    })
    expect(statusByFile(result)).toEqual({
      'tests/odd.test.js': 'failed',
      'tests/fine.test.js': 'passed',
    })
    expect(result.stdout + result.stderr).toContain(message)
  })

  it('runs TypeScript with setupFiles, shows console output and points stacks at the line', async () => {
    const files = {
      'src/greet.ts': "export const greet = (name: string): string => 'hi ' + name\n",
      'setup.ts': '(globalThis as { setupRan?: boolean }).setupRan = true\n',
      'tests/typed.test.ts': [
        "import { expect, test } from 'vitest'",
        "import { greet } from '../src/greet'",
        "test('greets', () => {",
        "  console.log('hello from the sandbox')",
        '  expect((globalThis as { setupRan?: boolean }).setupRan).toBe(true)',
        "  expect(greet('you')).toBe('hi you')",
        '})',
        "test('fails on line 9', () => {",
        '  expect(1).toBe(2)',
        '})',
        '',
      ].join('\n'),
    }
    const result = await run({ files, pool: {}, test: { setupFiles: ['./setup.ts'] } })
    const output = result.stdout + result.stderr
    expect(output).toContain('hello from the sandbox')
    expect(output).toMatch(/tests\/typed\.test\.ts:9:\d+/)
    expect(result.report.testResults[0]?.status).toBe('failed')
    expect(output).toMatch(/1 failed \| 1 passed|1 passed \| 1 failed/)
  })

  it('serves every project of test.projects with its own options, and --shard', async () => {
    const hostname = `
import os from 'node:os'
import { expect, test } from 'vitest'
test('is sandboxed', () => { expect(os.hostname()).toBe('nsbox') })
`
    const config = `export default defineConfig({ test: { projects: [
  { test: { name: 'one', include: ['one/**/*.test.js'], pool: sandbox() } },
  { test: { name: 'two', include: ['two/**/*.test.js'], pool: sandbox({ network: 'none' }) } },
] } })`
    const files: Record<string, string> = {}
    for (const id of [1, 2, 3, 4]) {
      files[`one/a${id}.test.js`] = hostname
      files[`two/b${id}.test.js`] = hostname
    }
    const all = await run({ files, pool: {}, config })
    expect(all.exitCode, all.stdout + all.stderr).toBe(0)
    expect(Object.keys(statusByFile(all))).toHaveLength(8)
    const half = await run({ files, pool: {}, config }, ['--shard=1/2'])
    expect(half.exitCode, half.stdout + half.stderr).toBe(0)
    expect(Object.keys(statusByFile(half))).toHaveLength(4)
  })

  it("onUnsupported: 'error' stops the run at once with the cause and the fix", async () => {
    const result = await run({
      files: { 'tests/a.test.js': PASSING },
      pool: {},
      onBlockedHost: true,
    })
    expect(result.exitCode).not.toBe(0)
    const output = result.stdout + result.stderr
    expect(output).toContain('UsernsBlockedError')
    expect(output).toContain('user.max_user_namespaces')
    expect(output).toContain("onUnsupported: 'warn'")
    expect(result.report.testResults).toEqual([])
  })

  it('off Linux, refuses with ERR_UNSUPPORTED_PLATFORM, or runs unsandboxed with one warning', async () => {
    const files = { 'tests/a.test.js': PASSING }
    const refused = await run({ files, pool: {}, platform: 'darwin' })
    expect(refused.exitCode).not.toBe(0)
    expect(refused.stdout + refused.stderr).toMatch(/sandboxes need Linux .*and this is darwin/)
    const warned = await run({ files, pool: { onUnsupported: 'warn' }, platform: 'darwin' })
    expect(warned.exitCode, warned.stdout + warned.stderr).toBe(0)
    expect((warned.stdout + warned.stderr).match(/WITHOUT sandboxes/g)).toHaveLength(1)
  })

  it("onUnsupported: 'warn' runs the files unsandboxed, saying so once", async () => {
    const result = await run({
      files: { 'tests/a.test.js': PASSING, 'tests/b.test.js': PASSING },
      pool: { onUnsupported: 'warn' },
      onBlockedHost: true,
    })
    expect(result.exitCode, result.stdout + result.stderr).toBe(0)
    expect((result.stdout + result.stderr).match(/WITHOUT sandboxes/g)).toHaveLength(1)
  })

  it('honours .only, -t filters and --bail', async () => {
    const only = `
import { expect, test } from 'vitest'
test.only('the only one', () => { expect(1).toBe(1) })
test('skipped by .only', () => { expect(1).toBe(2) })
`
    const named = `
import { expect, test } from 'vitest'
test('wanted by the filter', () => { expect(1).toBe(1) })
test('left out by the filter', () => { expect(1).toBe(2) })
`
    const filtered = await run(
      { files: { 'tests/only.test.js': only, 'tests/named.test.js': named }, pool: {} },
      ['-t', 'wanted|the only one', '--allowOnly'],
    )
    expect(filtered.exitCode, filtered.stdout + filtered.stderr).toBe(0)
    const failing = Object.fromEntries(
      [1, 2, 3, 4].map((id) => [
        `tests/fail-${id}.test.js`,
        "import { test } from 'vitest'\ntest('fails', () => { throw new Error('no') })\n",
      ]),
    )
    const bailed = await run({ files: failing, pool: {}, test: { maxWorkers: 1 } }, ['--bail=1'])
    expect(bailed.exitCode).toBe(1)
    // Files --bail never ran count as failed in Vitest 5's JSON report: count test cases.
    expect(bailed.report.numFailedTests).toBeLessThan(4)
  })

  it('re-runs a changed file in watch mode', async () => {
    const watched = (label: string) =>
      `import { test } from 'vitest'\ntest('logs', () => { console.log('run of ${label}') })\n`
    const { root, cleanup } = await writeVitestProject({
      files: { 'tests/w.test.js': watched('first') },
      pool: {},
    })
    cleanups.add(cleanup)
    const vitest = startVitest(root, ['--watch'])
    const output = captureOutput(vitest)
    try {
      await until(() => output().includes('run of first'), 30_000)
      writeFileSync(path.join(root, 'tests/w.test.js'), watched('second'))
      await until(() => output().includes('run of second'), 30_000)
    } finally {
      vitest.kill('SIGTERM')
      await vitest
    }
    expect(output()).toContain('run of second')
  })

  it('writes a v8 coverage report into the project', async () => {
    const files = {
      'src/add.js': 'export function add(a, b) {\n  return a + b\n}\n',
      'tests/add.test.js':
        "import { expect, test } from 'vitest'\nimport { add } from '../src/add.js'\ntest('adds', () => { expect(add(1, 2)).toBe(3) })\n",
    }
    const result = await run({ files, pool: {} }, [
      '--coverage.enabled',
      '--coverage.reporter=json-summary',
    ])
    expect(result.exitCode, result.stdout + result.stderr).toBe(0)
    const summary = JSON.parse(
      readFileSync(path.join(result.root, 'coverage/coverage-summary.json'), 'utf8'),
    )
    expect(summary.total.lines.pct).toBe(100)
  })

  it('hides the paths its hide option names from every file', async () => {
    const { path: secrets, cleanup } = await dir({
      prefix: 'nsbox-secrets-',
      tmpdir: '/var/tmp',
      unsafeCleanup: true,
    })
    cleanups.add(cleanup)
    writeFileSync(path.join(secrets, 'token'), 'the token')
    await handToUser(secrets, testUser())
    const reads = `
import fs from 'node:fs'
import { expect, test } from 'vitest'
test('finds the secret empty', () => { expect(fs.readFileSync('${secrets}/token', 'utf8')).toBe('') })
`
    const result = await run({
      files: { 'tests/reads.test.js': reads },
      pool: { hide: [path.join(secrets, 'token')] },
    })
    expect(result.exitCode, result.stdout + result.stderr).toBe(0)
  })

  it('writes snapshots into the project with -u, and sees its own PID space', async () => {
    const snapshot = `
import { expect, test } from 'vitest'
test('snapshot', () => { expect({ answer: 42 }).toMatchSnapshot() })
test('pid', () => { expect(process.pid).toBeLessThan(10) })
`
    const result = await run({ files: { 'tests/snap.test.js': snapshot }, pool: {} }, ['-u'])
    expect(result.exitCode, result.stdout + result.stderr).toBe(0)
    expect(existsSync(path.join(result.root, 'tests/__snapshots__/snap.test.js.snap'))).toBe(true)
  })
})
