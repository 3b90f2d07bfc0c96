import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import semver from 'semver'
import { dir } from 'tmp-promise'
import { expect, it } from 'vitest'
import { cleanUpAfterAll, handToUser, statusByFile } from '../support/fixture-project.js'
import { captureOutput, fixtureSources, until } from '../support/fixture-sources.js'
import {
  jestTakesRunnerOptions,
  jestVersion,
  nodeVersion,
  runJestProject,
  startJest,
  writeJestProject,
} from '../support/jest-project.js'
import { uniqueMarker, waitUntilGone } from '../support/processes.js'
import { testUser } from '../support/test-user.js'
import { describeWithSandboxes } from '../support/unprivileged.js'

const cleanups = cleanUpAfterAll()
const run = cleanups.tracked(runJestProject)

const sources = fixtureSources('jest')
const ALLOCATE_FOREVER = sources.allocateForever
const ALLOCATE_400_MB = sources.allocate400MB
const PASSING = sources.passing

await describeWithSandboxes(`the runner on Jest ${jestVersion}`, () => {
  it('runs files that share a port and a /tmp path side by side; the default runner cannot', async () => {
    const sharedPath = `/tmp/${uniqueMarker('shared')}.txt`
    const files = sources.collidingFiles(sharedPath, 34568)
    try {
      const sandboxed = await run({ files, runner: {} }, ['--maxWorkers=4'])
      expect(sandboxed.report.success, sandboxed.stdout + sandboxed.stderr).toBe(true)
      expect(Object.values(statusByFile(sandboxed))).toEqual([
        'passed',
        'passed',
        'passed',
        'passed',
      ])
      expect(existsSync(sharedPath)).toBe(false) // the sandboxes' /tmp was their own

      const plain = await run({ files, runner: 'default' }, ['--maxWorkers=4'])
      expect(plain.exitCode).not.toBe(0)
      expect(Object.values(statusByFile(plain))).toContain('failed')
    } finally {
      rmSync(sharedPath, { force: true })
    }
  })

  it('gives each file running at once its own JEST_WORKER_ID and PID space', async () => {
    const file = (id: number) => `
const fs = require('node:fs')
test('reports its worker id', async () => {
  await new Promise((resolve) => setTimeout(resolve, 1000))
  fs.writeFileSync(__dirname + '/worker-${id}.txt', process.env.JEST_WORKER_ID)
  fs.writeFileSync(__dirname + '/pidns-${id}.txt', fs.readlinkSync('/proc/self/ns/pid'))
  expect(process.pid).toBeLessThan(10)
})
`
    const files = Object.fromEntries([1, 2, 3].map((id) => [`tests/w${id}.test.js`, file(id)]))
    const result = await run({ files, runner: {} }, ['--maxWorkers=3'])
    expect(result.exitCode, result.stdout + result.stderr).toBe(0)
    const ids = [1, 2, 3].map((id) =>
      readFileSync(path.join(result.root, `tests/worker-${id}.txt`), 'utf8'),
    )
    expect(ids.sort()).toEqual(['1', '2', '3'])
    const namespaces = [1, 2, 3].map((id) =>
      readFileSync(path.join(result.root, `tests/pidns-${id}.txt`), 'utf8'),
    )
    expect(new Set(namespaces).size).toBe(3) // a fresh sandbox for every file
  })

  it("isolate: 'worker' runs files one after another in a sandbox, cleaned between them", async () => {
    const marker = uniqueMarker('jest-worker')
    const file = (id: number) => `
const fs = require('node:fs')
const { spawn } = require('node:child_process')
test('finds what earlier files left gone', () => {
  const running = fs.readdirSync('/proc').filter((entry) => /^\\d+$/.test(entry))
    .map((pid) => { try { return fs.readFileSync('/proc/' + pid + '/cmdline', 'utf8') } catch { return '' } })
  expect(running.filter((command) => command.includes('${marker}'))).toEqual([])
  expect(fs.readdirSync('/tmp').filter((entry) => entry.startsWith('left-'))).toEqual([])
  fs.writeFileSync('/tmp/left-${id}', 'x')
  spawn('sh', ['-c', 'sleep 300; true', '${marker}'], { detached: true, stdio: 'ignore' }).unref()
  fs.writeFileSync(__dirname + '/pidns-${id}.txt', fs.readlinkSync('/proc/self/ns/pid'))
})
`
    const ids = [1, 2, 3, 4, 5, 6]
    const files = Object.fromEntries(ids.map((id) => [`tests/f${id}.test.js`, file(id)]))
    const result = await run({ files, runner: { isolate: 'worker' } }, ['--maxWorkers=2'])
    expect(result.exitCode, result.stdout + result.stderr).toBe(0)
    const namespaces = ids.map((id) =>
      readFileSync(path.join(result.root, `tests/pidns-${id}.txt`), 'utf8'),
    )
    expect(new Set(namespaces).size).toBeLessThanOrEqual(2) // one sandbox per worker
    expect(await waitUntilGone(marker, 2000)).toEqual([])
  })

  it("isolate: 'worker' fails a file over a limit as that file and goes on in a new sandbox", async () => {
    const sleeper =
      "test('sleeps', () => new Promise((resolve) => setTimeout(resolve, 30_000)), 60_000)\n"
    const result = await run(
      {
        files: {
          'tests/a-big.test.js': ALLOCATE_FOREVER,
          'tests/b-slow.test.js': sleeper,
          'tests/c-fine.test.js': PASSING,
          'tests/d-fine.test.js': PASSING,
        },
        runner: { isolate: 'worker', memory: '256M', timeout: '3s' },
      },
      ['--maxWorkers=1'],
    )
    expect(statusByFile(result)).toEqual({
      'tests/a-big.test.js': 'failed',
      'tests/b-slow.test.js': 'failed',
      'tests/c-fine.test.js': 'passed',
      'tests/d-fine.test.js': 'passed',
    })
    expect(result.stderr).toMatch(
      /nsbox: tests\/a-big\.test\.js was killed: memory limit 256 MiB exceeded \(peak \d+\.\d MiB\)/,
    )
    expect(result.stderr).toContain('nsbox: tests/b-slow.test.js was killed: timeout 3 s exceeded')
  })

  it('leaves nothing running that a file started and left behind', async () => {
    const marker = uniqueMarker('jest-grandchild')
    const leaky = sources.leaky(marker)
    const result = await run({ files: { 'tests/leaky.test.js': leaky }, runner: {} })
    expect(result.exitCode, result.stdout + result.stderr).toBe(0)
    expect(await waitUntilGone(marker, 2000)).toEqual([])
  })

  it('fails a file over its memory cap as that file, once, and runs the others', async () => {
    const result = await run({
      files: {
        'tests/big.test.js': ALLOCATE_FOREVER,
        'tests/neighbour.test.js': PASSING,
        'tests/raised.test.js': `/** @nsbox memory=1G */\n${ALLOCATE_400_MB}`,
      },
      runner: { memory: '256M' },
    })
    expect(statusByFile(result)).toEqual({
      'tests/big.test.js': 'failed',
      'tests/neighbour.test.js': 'passed',
      'tests/raised.test.js': 'passed',
    })
    const message =
      /nsbox: tests\/big\.test\.js was killed: memory limit 256 MiB exceeded \(peak \d+\.\d MiB\)/
    const big = result.report.testResults.find((file) => file.name.endsWith('big.test.js'))
    expect(big?.message).toContain('Test suite failed to run')
    expect(big?.message).toMatch(message)
    expect(result.stderr.match(new RegExp(message, 'g'))).toHaveLength(1)
    expect(result.exitCode).toBe(1)
  })

  it("starts a file's process ahead under its docblock's memory cap, and reports the cap that ended it before its turn", async () => {
    // Jest runs the larger file first; the smaller one's process starts meanwhile, and
    // cannot even load Jest in 16 MiB.
    const result = await run(
      {
        files: {
          'tests/first.test.js': `${PASSING}// ${'a larger file, which Jest runs first '.repeat(20)}\n`,
          'tests/tiny.test.js': `/** @nsbox memory=16M */\n${PASSING}`,
        },
        runner: {},
      },
      ['--maxWorkers=1'],
    )
    expect(statusByFile(result)).toEqual({
      'tests/first.test.js': 'passed',
      'tests/tiny.test.js': 'failed',
    })
    expect(result.stderr).toMatch(
      /nsbox: tests\/tiny\.test\.js was killed: memory limit 16 MiB exceeded \(peak \d+\.\d MiB\)/,
    )
  })

  it.each([
    {
      case: 'a wrong docblock, naming the key',
      source: `/** @nsbox memroy=1G */\n${PASSING}`,
      message: 'nsbox: tests/odd.test.js: unknown key `memroy` in the @nsbox docblock',
    },
    {
      case: 'its docblock timeout, naming it',
      source: `/**
 * @jest-environment node
 * @nsbox timeout=2s
 */
test('sleeps', () => new Promise((resolve) => setTimeout(resolve, 30_000)), 60_000)
`,
      message: 'nsbox: tests/odd.test.js was killed: timeout 2 s exceeded',
    },
  ])('fails a file for $case, while its neighbour passes', async ({ source, message }) => {
    const result = await run({
      files: { 'tests/odd.test.js': source, 'tests/fine.test.js': PASSING },
      runner: {},
    })
    expect(statusByFile(result)).toEqual({
      'tests/odd.test.js': 'failed',
      'tests/fine.test.js': 'passed',
    })
    expect(result.stderr).toContain(message)
  })

  it('runs TypeScript through babel and ts-jest, with setupFilesAfterEnv and console output', async () => {
    const typed = (line: string) =>
      [
        "import { greet } from '../src/greet'",
        "test('greets', () => {",
        "  console.log('hello from the sandbox')",
        '  expect((globalThis as { setupRan?: boolean }).setupRan).toBe(true)',
        "  expect(greet('you')).toBe('hi you')",
        '})',
        `test('fails on line ${line}', () => {`,
        '  expect(1).toBe(2)',
        '})',
        '',
      ].join('\n')
    const files = {
      'src/greet.ts': "export const greet = (name: string): string => 'hi ' + name\n",
      'setup.js': 'globalThis.setupRan = true\n',
      'tests/typed.test.ts': typed('8'),
    }
    const config = { setupFilesAfterEnv: ['<rootDir>/setup.js'] }
    const babel = await run({
      files: {
        ...files,
        'babel.config.js': `module.exports = {
  presets: ['@babel/preset-typescript'],
  plugins: ['@babel/plugin-transform-modules-commonjs'],
}
`,
      },
      runner: {},
      config,
    })
    const tsJest = await run({
      files,
      runner: {},
      config: {
        ...config,
        transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
      },
    })
    for (const result of [babel, tsJest]) {
      expect(result.report.testResults[0]?.status, result.stderr).toBe('failed')
      expect(result.report.numFailedTests).toBe(1)
      expect(result.stderr).toContain('hello from the sandbox')
      expect(result.stderr).toMatch(/tests\/typed\.test\.ts:8:\d+/)
    }
  })

  it('type-checks through ts-jest as Jest does: a type error fails its file, typed files pass', async () => {
    const adds = (type: string) =>
      `import { add } from '../src/add'\ntest('adds', () => { const sum: ${type} = add(1, 2); expect(sum).toBe(3) })\n`
    const result = await run({
      files: {
        'src/add.ts': 'export const add = (a: number, b: number): number => a + b\n',
        'src/globals.d.ts':
          'declare function test(name: string, body: () => void): void\ndeclare function expect(actual: unknown): { toBe(expected: unknown): void }\n',
        'tsconfig.json': '{ "compilerOptions": { "strict": true, "types": [] } }\n',
        'tests/typed.test.ts': adds('number'),
        'tests/mistyped.test.ts': adds('string'),
      },
      runner: {},
      config: { transform: { '^.+\\.ts$': 'ts-jest' } },
    })
    expect(statusByFile(result), result.stderr).toEqual({
      'tests/typed.test.ts': 'passed',
      'tests/mistyped.test.ts': 'failed',
    })
    expect(result.stderr).toMatch(/TS2322: .*Type 'number' is not assignable to type 'string'/)
  })

  it.each(['babel', 'v8'])('writes a %s coverage report into the project', async (provider) => {
    const files = {
      'src/add.js': 'exports.add = (a, b) => {\n  return a + b\n}\n',
      'tests/add.test.js':
        "const { add } = require('../src/add')\ntest('adds', () => { expect(add(1, 2)).toBe(3) })\n",
    }
    const result = await run({ files, runner: {} }, [
      '--coverage',
      `--coverageProvider=${provider}`,
      '--coverageReporters=json-summary',
    ])
    expect(result.exitCode, result.stdout + result.stderr).toBe(0)
    const summary = JSON.parse(
      readFileSync(path.join(result.root, 'coverage/coverage-summary.json'), 'utf8'),
    )
    expect(summary.total.lines.pct).toBe(100)
  })

  it('writes snapshots into the project with -u, and shares the transform cache in /tmp', async () => {
    const { path: cacheDirectory } = await dir({ prefix: 'nsbox-jest-cache-' })
    cleanups.add(async () => rmSync(cacheDirectory, { recursive: true, force: true }))
    await handToUser(cacheDirectory, testUser())
    const snapshot = "test('snapshot', () => { expect({ answer: 42 }).toMatchSnapshot() })\n"
    const result = await run(
      { files: { 'tests/snap.test.js': snapshot }, runner: {}, config: { cacheDirectory } },
      ['-u', '--ci=false'],
    )
    expect(result.exitCode, result.stdout + result.stderr).toBe(0)
    expect(existsSync(path.join(result.root, 'tests/__snapshots__/snap.test.js.snap'))).toBe(true)
    // The file's sandbox wrote its transformed source into the host's cache directory.
    const transformed = readdirSync(cacheDirectory, { recursive: true }).filter((entry) =>
      String(entry).includes('snap'),
    )
    expect(transformed.length).toBeGreaterThan(0)
    // Node.js 22.1 and later keep the files' compiled code there too; Node.js 20 cannot.
    const compileCache = path.join(cacheDirectory, 'nsbox-compile-cache')
    expect(existsSync(compileCache)).toBe(semver.gte(nodeVersion, '22.1.0'))
  })

  it('runs ESM test files under --experimental-vm-modules', async () => {
    const esm = `
import os from 'node:os'
import { expect, test } from '@jest/globals'
test('imports', async () => {
  const { readFileSync } = await import('node:fs')
  expect(typeof readFileSync).toBe('function')
  expect(os.hostname()).toBe('nsbox')
})
`
    const result = await run(
      {
        files: { 'tests/esm.test.mjs': esm },
        runner: {},
        config: { testMatch: ['**/*.test.mjs'], transform: {} },
      },
      [],
      { nodeArgs: ['--experimental-vm-modules', '--no-warnings'] },
    )
    expect(result.exitCode, result.stdout + result.stderr).toBe(0)
    expect(statusByFile(result)).toEqual({ 'tests/esm.test.mjs': 'passed' })
  })

  it('serves every project of projects with its own options, and --shard', async () => {
    // Loopback works in project one's sandboxes; project two's have network 'none'.
    const connects = (expected: string) => `
const net = require('node:net')
const os = require('node:os')
test('is sandboxed with the network of its project', async () => {
  expect(os.hostname()).toBe('nsbox')
  const server = net.createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const outcome = await new Promise((resolve) => {
    net.connect(server.address().port, '127.0.0.1')
      .once('connect', () => resolve('connected'))
      .once('error', (error) => resolve(error.code))
  })
  server.close()
  expect(outcome).toBe('${expected}')
})
`
    const files: Record<string, string> = {}
    for (const id of [1, 2, 3, 4]) {
      files[`one/a${id}.test.js`] = connects('connected')
      files[`two/b${id}.test.js`] = connects('ENETUNREACH')
    }
    const project = (name: string, network: string) => ({
      displayName: name,
      cacheDirectory: '<rootDir>/.jest-cache',
      testEnvironment: 'node',
      rootDir: '<rootDir>',
      testMatch: [`<rootDir>/${name}/**/*.test.js`],
      runner: runnerWith({ network }, name),
    })
    // Jest before 30.4.1 takes no runner options: a runner module per project instead.
    const runnerWith = (options: object, name: string) => {
      if (jestTakesRunnerOptions) return ['@nsbox/jest-env', options]
      files[`${name}.runner.mjs`] =
        `import { createRunner } from '@nsbox/jest-env'\nexport default createRunner(${JSON.stringify(options)})\n`
      return `<rootDir>/${name}.runner.mjs`
    }
    const config = { projects: [project('one', 'loopback'), project('two', 'none')] }
    const all = await run({ files, runner: {}, config })
    expect(all.exitCode, all.stdout + all.stderr).toBe(0)
    expect(Object.keys(statusByFile(all))).toHaveLength(8)
    const half = await run({ files, runner: {}, config }, ['--shard=1/2'])
    expect(half.exitCode, half.stdout + half.stderr).toBe(0)
    expect(Object.keys(statusByFile(half))).toHaveLength(4)
  })

  it('takes its options from a runner module made with createRunner, and rejects bad ones', async () => {
    const files = { 'tests/big.test.js': ALLOCATE_FOREVER }
    const viaModule = await run({ files, runner: { memory: '128M' }, runnerForm: 'module' })
    expect(viaModule.stderr).toMatch(/was killed: memory limit 128 MiB exceeded/)
    const typo = await run({
      files: { 'tests/a.test.js': PASSING },
      runner: { memroy: '1G' },
      runnerForm: 'module',
    })
    expect(typo.exitCode).not.toBe(0)
    expect(typo.stderr).toContain('unknown option `memroy` for createRunner()')
  })

  it("onUnsupported: 'error' stops the run with the cause and the fix", async () => {
    const result = await run({
      files: { 'tests/a.test.js': PASSING },
      runner: {},
      onBlockedHost: true,
    })
    expect(result.exitCode).not.toBe(0)
    expect(result.stderr).toContain('user.max_user_namespaces')
    expect(result.stderr).toContain("onUnsupported: 'warn'")
    expect(result.report.numTotalTestSuites).toBe(0)
  })

  it('off Linux, refuses with ERR_UNSUPPORTED_PLATFORM, or runs unsandboxed with one warning', async () => {
    const files = { 'tests/a.test.js': PASSING }
    const refused = await run({ files, runner: {}, platform: 'darwin' })
    expect(refused.exitCode).not.toBe(0)
    expect(refused.stdout + refused.stderr).toMatch(/sandboxes need Linux .*and this is darwin/)
    const warned = await run({ files, runner: { onUnsupported: 'warn' }, platform: 'darwin' })
    expect(warned.exitCode, warned.stdout + warned.stderr).toBe(0)
    expect(warned.stderr.match(/WITHOUT sandboxes/g)).toHaveLength(1)
  })

  it("onUnsupported: 'warn' runs the files unsandboxed, saying so once", async () => {
    const result = await run({
      files: { 'tests/a.test.js': PASSING, 'tests/b.test.js': PASSING },
      runner: { onUnsupported: 'warn' },
      onBlockedHost: true,
    })
    expect(result.exitCode, result.stdout + result.stderr).toBe(0)
    expect(result.stderr.match(/WITHOUT sandboxes/g)).toHaveLength(1)
  })

  it('ends every sandbox when --bail stops the run', async () => {
    const marker = uniqueMarker('jest-bail')
    const slow = `
const { spawn } = require('node:child_process')
test('waits', async () => {
  spawn('sh', ['-c', 'sleep 300; true', '${marker}'], { stdio: 'ignore' })
  await new Promise((resolve) => setTimeout(resolve, 20_000))
})
`
    const result = await run(
      {
        files: {
          'tests/fails.test.js': "test('fails', () => { throw new Error('no') })\n",
          'tests/slow.test.js': slow,
        },
        runner: {},
      },
      ['--bail=1', '--maxWorkers=2'],
    )
    expect(result.exitCode).toBe(1)
    expect(await waitUntilGone(marker, 2000)).toEqual([])
  })

  it('re-runs a changed file in watch mode', async () => {
    const watched = (label: string) => `test('logs', () => { console.log('run of ${label}') })\n`
    const { root, cleanup } = await writeJestProject({
      files: { 'tests/w.test.js': watched('first') },
      runner: {},
    })
    cleanups.add(cleanup)
    const jest = startJest(root, ['--watchAll'], { user: testUser() })
    const output = captureOutput(jest)
    try {
      await until(() => output().includes('run of first'), 30_000)
      writeFileSync(path.join(root, 'tests/w.test.js'), watched('second'))
      await until(() => output().includes('run of second'), 30_000)
    } finally {
      jest.kill('SIGTERM')
      await jest
    }
    expect(output()).toContain('run of second')
  })
})
