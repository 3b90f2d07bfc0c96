import { describe, expect, it } from 'vitest'
import { formatDuration, parseDuration } from './duration.js'

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['500ms', 500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1.5s', 1500],
    [250, 250],
  ])('%j → %d ms', (input, ms) => {
    expect(parseDuration('timeout', input)).toBe(ms)
  })

  it.each(['soon', '', '5 minutes', '-1s', 0, -1, Number.POSITIVE_INFINITY, true])(
    'refuses %j',
    (input) => {
      expect(() => parseDuration('timeout', input)).toThrowError(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
      )
    },
  )

  it('asks for a unit when a string has none, instead of guessing', () => {
    expect(() => parseDuration('timeout', '10')).toThrowError(/Add a unit: "10s" or "10ms"\./)
  })
})

describe('formatDuration', () => {
  it.each([
    [500, '500 ms'],
    [1500, '1.5 s'],
    [120_000, '2 min'],
  ])('%d → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })
})
