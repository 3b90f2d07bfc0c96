import { describe, expect, it } from 'vitest'
import { applyDocblock } from './options.js'

const base = { memory: '512M', network: 'loopback' as const, timeout: '1m' }

describe("applyDocblock under docblock: 'tighten-only'", () => {
  const apply = (pairs: Array<[string, string]>) =>
    applyDocblock(base, pairs, 'tests/a.test.ts', 'tighten-only')

  it('lets a docblock lower caps and narrow the network', () => {
    expect(
      apply([
        ['memory', '128M'],
        ['network', 'none'],
        ['timeout', '10s'],
        ['pids', '32'],
      ]),
    ).toEqual({
      memory: '128M',
      network: 'none',
      timeout: '10s',
      pids: 32,
    })
  })

  it.each([
    [[['memory', '1G']], /raises `memory` from 512M to 1G/],
    [[['memory', 'none']], /lifts the `memory` cap of 512M/],
    [[['network', 'host']], /opens the network from 'loopback' to 'host'/],
    [[['timeout', '2m']], /raises `timeout` from 1m to 2m/],
    [[['tmpSize', '2G']], /raises `tmpSize` from 1G to 2G/],
  ] as Array<[Array<[string, string]>, RegExp]>)(
    'refuses %j, naming the file',
    (pairs, message) => {
      expect(() => apply(pairs)).toThrowError(
        expect.objectContaining({
          code: 'ERR_INVALID_OPTION',
          message: expect.stringMatching(
            new RegExp(
              `^nsbox: tests/a\\.test\\.ts: the @nsbox docblock ${message.source}.*tighten-only`,
            ),
          ),
        }),
      )
    },
  )
})

describe("applyDocblock under docblock: 'off'", () => {
  it('refuses any docblock, and lets a file without one be', () => {
    expect(() => applyDocblock(base, [['memory', '128M']], 'a.test.ts', 'off')).toThrowError(
      /a\.test\.ts: has an @nsbox docblock, and this project turns them off/,
    )
    expect(applyDocblock(base, [], 'a.test.ts', 'off')).toEqual(base)
  })
})
