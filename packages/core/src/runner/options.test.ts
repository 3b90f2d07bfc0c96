import { describe, expect, it } from 'vitest'
import { applyDocblock, fileTimeoutMs, resolveTestSandboxOptions } from './options.js'

const invalid = (option: string, message: RegExp) =>
  expect.objectContaining({
    code: 'ERR_INVALID_OPTION',
    option,
    message: expect.stringMatching(message),
  })

const boundaryDefaults = {
  protectRunner: true,
  docblock: 'any',
  maxMessageBytes: 16 * 2 ** 20,
  maxConsoleBytes: 8 * 2 ** 20,
}

describe('resolveTestSandboxOptions', () => {
  it('defaults to a 2G memory cap and failing on unsupported hosts', () => {
    expect(resolveTestSandboxOptions(undefined, 'sandbox()')).toEqual({
      sandbox: { memory: '2G' },
      onUnsupported: 'error',
      boundary: boundaryDefaults,
    })
    expect(
      resolveTestSandboxOptions({ memory: false, onUnsupported: 'warn' }, 'sandbox()'),
    ).toEqual({
      sandbox: {},
      onUnsupported: 'warn',
      boundary: boundaryDefaults,
    })
  })

  it('guards the runner by default: its files read-only, docblocks free, 16M messages, 8M console', () => {
    expect(
      resolveTestSandboxOptions(
        {
          protectRunner: false,
          docblock: 'tighten-only',
          maxMessageSize: '4M',
          maxConsoleSize: 1024,
        },
        'sandbox()',
      ),
    ).toMatchObject({
      sandbox: { memory: '2G' },
      boundary: {
        protectRunner: false,
        docblock: 'tighten-only',
        maxMessageBytes: 4 * 2 ** 20,
        maxConsoleBytes: 1024,
      },
    })
    expect(() => resolveTestSandboxOptions({ docblock: 'never' }, 'sandbox()')).toThrowError(
      invalid('docblock', /'any', 'tighten-only' or 'off', got "never"/),
    )
    expect(() => resolveTestSandboxOptions({ maxMessageSize: 'big' }, 'sandbox()')).toThrowError(
      invalid('maxMessageSize', /size such as/),
    )
  })

  it('rejects unknown options and bad values with the core messages', () => {
    expect(() => resolveTestSandboxOptions({ memroy: '1G' }, 'sandbox()')).toThrowError(
      invalid('memroy', /unknown option `memroy` for sandbox\(\)/),
    )
    expect(() => resolveTestSandboxOptions({ memory: 'lots' }, 'sandbox()')).toThrowError(
      invalid('memory', /size such as/),
    )
    expect(() => resolveTestSandboxOptions({ onUnsupported: 'ignore' }, 'sandbox()')).toThrowError(
      invalid('onUnsupported', /'error' or 'warn'/),
    )
  })
})

describe('applyDocblock', () => {
  const base = { memory: '512M', network: 'loopback' as const }

  it('overrides the pool options, turning numbers and memory=none', () => {
    expect(
      applyDocblock(
        base,
        [
          ['memory', '1G'],
          ['pids', '64'],
          ['network', 'host'],
        ],
        'a.test.ts',
      ),
    ).toEqual({
      memory: '1G',
      pids: 64,
      network: 'host',
    })
    expect(applyDocblock(base, [['memory', 'none']], 'a.test.ts')).toEqual({ network: 'loopback' })
  })

  it('names the file, the key and the value in its errors', () => {
    expect(() => applyDocblock(base, [['memroy', '1G']], 'tests/a.test.ts')).toThrowError(
      invalid('memroy', /^nsbox: tests\/a\.test\.ts: unknown key `memroy`/),
    )
    expect(() => applyDocblock(base, [['timeout', '10']], 'tests/a.test.ts')).toThrowError(
      invalid('timeout', /^nsbox: tests\/a\.test\.ts: bad @nsbox docblock: .*`timeout`/),
    )
  })
})

describe('fileTimeoutMs', () => {
  it('reads the timeout in milliseconds, or null without one', () => {
    expect(fileTimeoutMs({ timeout: '2m' })).toBe(120_000)
    expect(fileTimeoutMs({ timeout: 500 })).toBe(500)
    expect(fileTimeoutMs({ memory: '1G' })).toBeNull()
  })
})
