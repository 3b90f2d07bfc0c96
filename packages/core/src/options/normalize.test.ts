import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  KEPT_ENV,
  normalizeRunOptions,
  normalizeSpawnOptions,
  validateSandboxOptions,
} from './normalize.js'

const invalid = (option: string) => expect.objectContaining({ code: 'ERR_INVALID_OPTION', option })

describe('normalizeRunOptions', () => {
  it('fills in the documented defaults', () => {
    const spec = normalizeRunOptions('node', ['-v'], undefined)
    expect(spec).toMatchObject({
      file: 'node',
      args: ['-v'],
      cwd: process.cwd(),
      timeoutMs: null,
      network: 'loopback',
      uid: 'self',
      tmpSizeBytes: 1024 ** 3,
      maxOutputBytes: 16 * 1024 ** 2,
      input: null,
      limits: { memoryBytes: null, pids: null, cpus: null },
    })
    expect(spec.env.PATH).toBe(process.env.PATH)
  })

  it('extends process.env by default and replaces it with extendEnv: false', () => {
    expect(normalizeRunOptions('x', [], { env: { EXTRA: '1' } }).env).toMatchObject({
      EXTRA: '1',
      PATH: process.env.PATH,
    })
    expect(normalizeRunOptions('x', [], { env: { ONLY: '1' }, extendEnv: false }).env).toEqual({
      ONLY: '1',
    })
  })

  it('drops variables set to undefined', () => {
    expect(
      normalizeRunOptions('x', [], { env: { PATH: undefined }, extendEnv: true }).env.PATH,
    ).toBeUndefined()
  })

  it('resolves cwd, including file: URLs', () => {
    expect(normalizeRunOptions('x', [], { cwd: new URL('file:///srv/app') }).cwd).toBe('/srv/app')
    expect(normalizeRunOptions('x', [], { cwd: 'relative' }).cwd).toBe(`${process.cwd()}/relative`)
  })

  it('parses sizes and durations', () => {
    const spec = normalizeRunOptions('x', [], {
      timeout: '2m',
      tmpSize: '64M',
      maxOutput: 100,
      memory: '1G',
      pids: 8,
      cpus: 0.5,
    })
    expect(spec).toMatchObject({
      timeoutMs: 120_000,
      tmpSizeBytes: 64 * 1024 ** 2,
      maxOutputBytes: 100,
    })
    expect(spec.limits).toEqual({ memoryBytes: 1024 ** 3, pids: 8, cpus: 0.5 })
  })

  it.each([
    [
      'network',
      { network: 'wifi' },
      "Expected the `network` option to be one of 'loopback', 'none', 'host', got `\"wifi\"` (string).",
    ],
    [
      'uid',
      { uid: 1000 },
      "Expected the `uid` option to be one of 'self', 'root', got `1000` (number).",
    ],
    ['pids', { pids: 0 }, 'The `pids` option must be positive, got `0` (number).'],
    ['pids', { pids: -4 }, 'The `pids` option must be positive, got `-4` (number).'],
    [
      'pids',
      { pids: 1 },
      "The `pids` option must be at least 2, for the sandbox's init and the command, got `1` (number).",
    ],
    [
      'pids',
      { pids: 2.5 },
      'Expected the `pids` option to be a positive whole number such as 64, got `2.5` (number).',
    ],
    ['cpus', { cpus: 0 }, 'The `cpus` option must be positive, got `0` (number).'],
    [
      'cpus',
      { cpus: '2' },
      'Expected the `cpus` option to be a number of cores of at least 0.01, such as 1.5, got `"2"` (string).',
    ],
    [
      'cpus',
      { cpus: 0.001 },
      'Expected the `cpus` option to be a number of cores of at least 0.01, such as 1.5, got `0.001` (number).',
    ],
    ['memory', { memory: '0' }, 'The `memory` option must be positive, got `"0"` (string).'],
    ['memory', { memory: '-5M' }, 'The `memory` option must be positive, got `"-5M"` (string).'],
    [
      'memory',
      { memory: '64K' },
      'The `memory` option must be at least 4 MiB, what a sandbox needs to start, got `"64K"` (string).',
    ],
    [
      'memory',
      { memory: 1024 },
      'The `memory` option must be at least 4 MiB, what a sandbox needs to start, got `1024` (number).',
    ],
    [
      'memory',
      { memory: 'lots' },
      'Expected the `memory` option to be a size such as "512M", "1.5G" or a number of bytes, got `"lots"` (string).',
    ],
    ['timeout', { timeout: '0s' }, 'The `timeout` option must be positive, got `"0s"` (string).'],
    ['timeout', { timeout: -1 }, 'The `timeout` option must be positive, got `-1` (number).'],
    ['tmpSize', { tmpSize: 0 }, 'The `tmpSize` option must be positive, got `0` (number).'],
    [
      'enforce',
      { enforce: 'lenient' },
      "Expected the `enforce` option to be one of 'best-effort', 'strict', got `\"lenient\"` (string).",
    ],
    [
      'extendEnv',
      { extendEnv: 'yes' },
      'Expected the `extendEnv` option to be a boolean, got `"yes"` (string).',
    ],
    [
      'input',
      { input: 42 },
      'Expected the `input` option to be a string or a Uint8Array, got `42` (number).',
    ],
  ])('refuses a bad %s with a message naming it', (option, options, message) => {
    expect(() => normalizeRunOptions('x', [], options)).toThrowError(invalid(option))
    expect(() => normalizeRunOptions('x', [], options)).toThrowError(`nsbox: ${message}`)
  })

  it('refuses unknown options and suggests the one meant', () => {
    expect(() => normalizeRunOptions('x', [], { memroy: '1G' })).toThrowError(
      /Unknown option `memroy`\. Did you mean `memory`\?/,
    )
    expect(() => normalizeRunOptions('x', [], { stdio: 'pipe' })).toThrowError(invalid('stdio'))
  })

  it('refuses a bad command, arguments or environment', () => {
    expect(() => normalizeRunOptions('', [], {})).toThrowError(invalid('file'))
    expect(() => normalizeRunOptions(42, [], {})).toThrowError(invalid('file'))
    expect(() => normalizeRunOptions('x', 'not-an-array', {})).toThrowError(invalid('args'))
    expect(() => normalizeRunOptions('x', ['a\0b'], {})).toThrowError(invalid('args'))
    expect(() => normalizeRunOptions('x', [], { env: { 'A=B': '1' } })).toThrowError(invalid('env'))
    expect(() => normalizeRunOptions('x', [], { env: { A: 1 as unknown as string } })).toThrowError(
      invalid('env'),
    )
    expect(() => normalizeRunOptions('x', [], 'options')).toThrowError(invalid('options'))
  })
})

describe('filesystem and environment policy', () => {
  it('resolves paths against process.cwd() and refuses / and non-arrays', () => {
    const spec = normalizeRunOptions('true', [], { ro: ['tools'], rw: ['/out'], hide: ['~x'] })
    expect(spec.filesystem).toEqual({
      readOnly: false,
      ro: [path.resolve('tools')],
      rw: ['/out'],
      hide: [path.resolve('~x')],
      hideHome: false,
      hideSockets: false,
      exactTmpBinds: false,
      minimalDev: false,
    })
    expect(() => normalizeRunOptions('true', [], { hide: ['/'] })).toThrowError(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'hide' }),
    )
    expect(() => normalizeRunOptions('true', [], { rw: '/out' })).toThrowError(/`rw` option/)
    expect(() => normalizeRunOptions('true', [], { readOnly: 'yes' })).toThrowError(/`readOnly`/)
  })

  it('keeps only the documented variables with clearEnv, then adds env', () => {
    const spec = normalizeRunOptions('true', [], {
      clearEnv: true,
      extendEnv: true,
      env: { EXTRA: '1' },
    })
    expect(Object.keys(spec.env).sort()).toEqual(
      [...KEPT_ENV.filter((key) => process.env[key] !== undefined), 'EXTRA'].sort(),
    )
  })

  it('fills in the untrusted preset under what the caller set', () => {
    const spec = normalizeRunOptions('true', [], { untrusted: true, pids: 8 })
    expect(spec).toMatchObject({
      network: 'none',
      timeoutMs: 60_000,
      tmpSizeBytes: 64 * 1024 ** 2,
      maxOutputBytes: 1024 ** 2,
      limits: { memoryBytes: 512 * 1024 ** 2, pids: 8, cpus: null },
      filesystem: {
        readOnly: true,
        hideHome: true,
        hideSockets: true,
        exactTmpBinds: true,
        minimalDev: true,
      },
      seccomp: true,
    })
    expect(normalizeRunOptions('true', [], { untrusted: true, seccomp: false }).seccomp).toBe(false)
    expect(() => normalizeRunOptions('true', [], { seccomp: 'on' })).toThrowError(/`seccomp`/)
    expect(spec.env.AWS_SECRET_ACCESS_KEY).toBeUndefined()
    expect(normalizeRunOptions('true', [], { untrusted: true, network: 'loopback' }).network).toBe(
      'loopback',
    )
    // An option present but undefined (a spread config) must not undo the preset.
    expect(normalizeRunOptions('true', [], { untrusted: true, network: undefined }).network).toBe(
      'none',
    )
  })
})

describe('normalizeSpawnOptions', () => {
  it('defaults to piped stdio without IPC', () => {
    expect(normalizeSpawnOptions('x', [], {})).toMatchObject({
      stdio: ['pipe', 'pipe', 'pipe'],
      ipc: false,
      serialization: 'json',
    })
  })

  it('accepts one value for all three streams, or three plus ipc', () => {
    expect(normalizeSpawnOptions('x', [], { stdio: 'inherit' }).stdio).toEqual([
      'inherit',
      'inherit',
      'inherit',
    ])
    expect(
      normalizeSpawnOptions('x', [], {
        stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
        serialization: 'advanced',
      }),
    ).toMatchObject({
      stdio: ['ignore', 'pipe', 'inherit'],
      ipc: true,
      serialization: 'advanced',
    })
  })

  it.each([
    ['overlapped'],
    [['pipe', 'pipe']],
    [['pipe', 'pipe', 'pipe', 'pipe']],
    [['pipe', 'pipe', 3]],
  ])('refuses stdio %j', (stdio) => {
    expect(() => normalizeSpawnOptions('x', [], { stdio })).toThrowError(invalid('stdio'))
  })

  it('refuses run-only options', () => {
    expect(() => normalizeSpawnOptions('x', [], { input: 'x' })).toThrowError(
      /Unknown option `input`/,
    )
  })
})

describe('validateSandboxOptions', () => {
  it('takes every option run() or spawn() takes', () => {
    expect(() =>
      validateSandboxOptions({ memory: '64M', input: 'x', maxOutput: '1M', stdio: 'inherit' }),
    ).not.toThrow()
    expect(() =>
      validateSandboxOptions({ serialization: 'advanced', untrusted: true }),
    ).not.toThrow()
  })

  it('still checks their values, and refuses unknown options', () => {
    expect(() => validateSandboxOptions({ maxOutput: 'lots' })).toThrowError(invalid('maxOutput'))
    expect(() => validateSandboxOptions({ stdio: 'tty' })).toThrowError(invalid('stdio'))
    expect(() => validateSandboxOptions({ memroy: '1G' })).toThrowError(/Did you mean `memory`/)
  })
})
